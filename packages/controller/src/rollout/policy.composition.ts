import type { Logger } from 'pino';
import type { NotificationEvent } from '../notifications/notification.service.js';
import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig } from '../config.js';
import { ApprovalService } from './approval.service.js';
import type { DeploymentLog } from '../deployments/deployment-log.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { HostService } from '../hosts/host.service.js';
import { PolicyService } from './policy.service.js';
import { RolloutService } from './rollout.service.js';
import type { Db } from '../storage/database.js';
import type { DeploymentRepository } from '../storage/deployment.repository.js';
import { EvaluationRepository } from '../storage/evaluation.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { HostRepository } from '../storage/host.repository.js';
import { PolicyRepository } from '../storage/policy.repository.js';
import { ReleaseRepository } from '../storage/release.repository.js';

export type Notify = (event: NotificationEvent) => Promise<void>;

export interface PoliciesDeps {
  db: Db;
  config: ControllerConfig;
  events: EventRepository;
  hosts: HostService;
  hostRows: HostRepository;
  deployments: DeploymentRepository;
  runner: DeploymentRunner;
  log: DeploymentLog;
  clock: Clock;
  logger: Logger;
  notify: Notify;
}

/** Policies, approvals and rollouts wired together. */
export function createPolicies(deps: PoliciesDeps) {
  const { db, config, events, hosts, clock, logger, notify } = deps;
  const policyRows = new PolicyRepository(db);
  const releases = new ReleaseRepository(db);
  const policies = new PolicyService({
    policies: policyRows,
    hosts: deps.hostRows,
    events,
    config,
    clock,
    notify,
  });
  const rollout = new RolloutService({
    deployments: deps.deployments,
    releases,
    evaluations: new EvaluationRepository(db),
    policyRows,
    policies,
    hosts,
    events,
    runner: deps.runner,
    log: deps.log,
    config,
    clock,
    logger,
    notify,
  });
  const approvals = new ApprovalService({
    deployments: deps.deployments,
    releases,
    policyRows,
    policies,
    rollout,
    events,
    log: deps.log,
    clock,
  });
  return { policies, rollout, approvals };
}
