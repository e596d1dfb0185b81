import { FlotillaError } from '@flotilla/protocol';
import type { HostIdentityService } from '../hosts/host-identity.service.js';
import type { HostService } from '../hosts/host.service.js';
import type { RebootService } from '../hosts/reboot.service.js';
import type { DeployCommands } from '../rollout/deploy.commands.js';
import type { PolicyService } from '../rollout/policy.service.js';
import type { FleetOverviewService } from '../status/fleet-overview.service.js';
import type { HostStatusService } from '../status/host-status.service.js';
import type { ApiHandlers } from './route.js';

export interface HostRouteServices {
  hosts: HostService;
  identity: HostIdentityService;
  status: HostStatusService;
  overview: FleetOverviewService;
  reboots: RebootService;
  commands: DeployCommands;
  policies: PolicyService;
}

type HostRoutes = Pick<
  ApiHandlers,
  | 'listHosts'
  | 'overview'
  | 'createHost'
  | 'getHost'
  | 'removeHost'
  | 'issueEnrollment'
  | 'revokeHost'
  | 'getHostStatus'
  | 'rollbackHost'
  | 'rebootHost'
  | 'setPolicy'
  | 'pinHost'
  | 'unpinHost'
>;

/** Hosts: registry, enrollment and revocation, status, rollback, reboot, policy and pin. */
export function hostRoutes(s: HostRouteServices): HostRoutes {
  return {
    listHosts: async ({ query }) => {
      const list = await s.hosts.list(query);
      return { ...list, hosts: await s.status.withSync(list.hosts) };
    },
    overview: () => s.overview.overview(),
    createHost: ({ body, actor }) => s.hosts.register(body, actor),
    getHost: async ({ params }) => s.status.withSyncOne(await s.hosts.get(params.name)),
    removeHost: ({ params, actor }) => s.hosts.remove(params.name, actor),
    issueEnrollment: ({ params, body, actor }) => s.identity.issue(params.name, body, actor),
    revokeHost: ({ params, body, actor }) => s.identity.revoke(params.name, body, actor),
    getHostStatus: ({ params }) => s.status.report(params.name),
    rollbackHost: ({ params, body, actor }) => s.commands.rollback(params.name, body, actor),
    rebootHost: ({ params, body, actor }) => {
      if (body.confirm !== params.name) {
        throw new FlotillaError(
          'confirmation_required',
          `type the host name to confirm the reboot: "confirm": "${params.name}"`,
        );
      }
      return s.reboots.request(params.name, actor);
    },
    setPolicy: ({ params, body, actor }) => s.policies.set(params.name, body, actor),
    pinHost: ({ params, body, actor }) =>
      s.policies.pin(params.name, actor, body.reason ?? 'pinned by hand'),
    unpinHost: ({ params, actor }) => s.policies.unpin(params.name, actor),
  };
}
