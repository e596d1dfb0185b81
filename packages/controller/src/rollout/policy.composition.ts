import type { Facts } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { DeploymentTransitions } from '../deployments/deployment.transitions.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { Notifier } from '../notifications/notification.service.js';
import type { Store } from '../storage/store.js';
import { ApprovalService } from './approval.service.js';
import { DeployCommands } from './deploy.commands.js';
import { DeploymentGate } from './deployment.gate.js';
import { GraduationWatcher } from './graduation.watcher.js';
import { PolicyService } from './policy.service.js';
import { RolloutService } from './rollout.service.js';

export interface PoliciesDeps {
  store: Store;
  config: ControllerConfig;
  transitions: DeploymentTransitions;
  runner: DeploymentRunner;
  notifier: Notifier;
  live: LiveEvents;
  liveFacts: (host: string) => Facts | null;
  clock: Clock;
  logger: Logger;
}

/** The humans' rules wired: the gate, policies, approvals, rollouts, deploy commands. */
export function createPolicies(deps: PoliciesDeps) {
  const { store, config, transitions, runner, notifier, live, clock, logger } = deps;
  const gate = new DeploymentGate({ transitions, config, clock, liveFacts: deps.liveFacts });
  const policies = new PolicyService({ store, transitions, notifier, live, config, clock });
  const rollout = new RolloutService({
    store,
    transitions,
    runner,
    notifier,
    live,
    config,
    clock,
    logger,
  });
  const approvals = new ApprovalService({ store, gate, rollout, config });
  const commands = new DeployCommands({ store, gate, rollout, runner });
  const graduation = new GraduationWatcher({ policies, logger });
  return { gate, policies, rollout, approvals, commands, graduation };
}
