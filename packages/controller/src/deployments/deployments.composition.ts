import type { CacheSource } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { PresenceService } from '../hosts/presence.service.js';
import type { Notifier } from '../notifications/notification.service.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { PlanService } from '../plans/plan.service.js';
import type { Store } from '../storage/store.js';
import { DeploymentRunner } from './deployment-runner.js';
import { DeploymentService } from './deployment.service.js';
import { DeploymentTransitions } from './deployment.transitions.js';

export interface DeploymentsDeps {
  store: Store;
  config: ControllerConfig;
  presence: PresenceService;
  notifier: Notifier;
  live: LiveEvents;
  clock: Clock;
  logger: Logger;
  cacheSource: (agentBaseUrl: string | null) => CacheSource | null;
  /** The rules react to ended deployments (bound after creation). */
  hooks: {
    onFinished(tx: Store, row: DeploymentRow): Promise<void>;
    afterFinished(row: DeploymentRow): Promise<void>;
  };
  /** Activation plans follow each deployment's creation and moves. */
  plans: Pick<PlanService, 'onRecorded'>;
}

/** Deployments wired: the state machine's writer, the API-facing service, the agent-facing runner. */
export function createDeployments(deps: DeploymentsDeps) {
  const { store, config, presence, notifier, live, clock, logger } = deps;
  const transitions = new DeploymentTransitions({
    notifier,
    live,
    clock,
    onRecorded: (tx, row, created) => deps.plans.onRecorded(tx, row, created),
  });
  const runner = new DeploymentRunner({
    store,
    transitions,
    presence,
    live,
    clock,
    logger,
    defaults: config.deployments,
    hostSettings: config.hosts,
    cacheSource: deps.cacheSource,
    onFinished: (tx, row) => deps.hooks.onFinished(tx, row),
    afterFinished: (row) => deps.hooks.afterFinished(row),
  });
  const service = new DeploymentService({ store, transitions, clock });
  return { service, runner, transitions };
}
