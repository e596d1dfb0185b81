import {
  AuditList,
  AuditQuery,
  DecisionRequest,
  DecisionResult,
  GraduationList,
  HostName,
  HostPolicy,
  HostPolicyList,
  HostRollout,
  PendingApprovalList,
  PinRequest,
  Rollout,
  SetPolicyRequest,
  WaveStatus,
} from '@flotilla/protocol';
import { z } from 'zod';
import type { ApprovalService } from '../rollout/approval.service.js';
import type { PolicyService } from '../rollout/policy.service.js';
import type { RolloutService } from '../rollout/rollout.service.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { RouteTable } from './route.js';

export interface PolicyRouteServices {
  policies: PolicyService;
  approvals: ApprovalService;
  rollout: RolloutService;
}

const NameParams = z.object({ name: HostName });

/** Policies, pins, approvals, graduation, waves, rollouts, honest status and the audit log. */
export function registerPolicyRoutes(
  routes: RouteTable,
  services: PolicyRouteServices,
  events: EventRepository,
): void {
  const { policies, approvals, rollout } = services;
  routes.add({
    method: 'GET',
    url: '/api/v1/policies',
    tag: 'policies',
    summary: 'Every host with its policy, pin and wave',
    response: HostPolicyList,
    handler: () => policies.list(),
  });
  routes.add({
    method: 'PUT',
    url: '/api/v1/hosts/:name/policy',
    tag: 'policies',
    summary: "Set a host's policy (manual, auto, monitor); refused when the config file owns it",
    params: NameParams,
    body: SetPolicyRequest,
    response: HostPolicy,
    handler: ({ params, body, actor }) =>
      policies.set(params.name, body.policy, actor, body.reason),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/hosts/:name/pin',
    tag: 'policies',
    summary: 'Pin a host: auto deployments stop moving it forward',
    params: NameParams,
    body: PinRequest,
    response: HostPolicy,
    handler: ({ params, body, actor }) =>
      policies.pin(params.name, actor, body.reason ?? 'pinned by hand'),
  });
  routes.add({
    method: 'DELETE',
    url: '/api/v1/hosts/:name/pin',
    tag: 'policies',
    summary: "Lift a host's pin",
    params: NameParams,
    response: HostPolicy,
    handler: ({ params, actor }) => policies.unpin(params.name, actor),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/approvals',
    tag: 'approvals',
    summary: 'Deployments waiting for a human',
    response: PendingApprovalList,
    handler: () => approvals.pending(),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/approvals',
    tag: 'approvals',
    summary: 'Approve or reject: one deployment, a release, or a revision in bulk (hosts, wave)',
    body: DecisionRequest,
    response: DecisionResult,
    handler: ({ body, actor }) => approvals.decide(body, actor),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/graduation',
    tag: 'policies',
    summary: "Each host's progress towards auto, and who is eligible",
    response: GraduationList,
    handler: () => policies.graduation(),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/waves',
    tag: 'rollouts',
    summary: 'The configured rollout waves',
    response: z.object({ waves: z.array(WaveStatus) }),
    handler: async () => rollout.waves(),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/rollouts/:id',
    tag: 'rollouts',
    summary: "Where a revision's rollout stands, wave by wave",
    params: z.object({ id: z.string().min(1).max(64) }),
    response: Rollout,
    handler: ({ params }) => rollout.rollout(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/hosts/:name/rollout',
    tag: 'hosts',
    summary: 'Declared, built, approved, executed and verified, for one host',
    params: NameParams,
    response: HostRollout,
    handler: ({ params }) => rollout.hostStatus(params.name),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/audit',
    tag: 'audit',
    summary: 'Every action and transition with actor, time and reason, newest first',
    query: AuditQuery,
    response: AuditList,
    handler: async ({ query }) => {
      const rows = await events.list(query);
      const entries = rows.map((r) => ({
        id: Number(r.id),
        at: r.at,
        kind: r.kind,
        actor: r.actor,
        host: r.host_name,
        deploymentId: r.deployment_id,
        data: r.data_json === null ? null : (JSON.parse(r.data_json) as unknown),
      }));
      return {
        entries,
        nextCursor: entries.length === query.limit ? (entries.at(-1)?.id ?? null) : null,
      };
    },
  });
}
