import type { CacheSource } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig } from '../config.js';
import { DeploymentLog } from './deployment-log.js';
import { DeploymentRunner } from './deployment-runner.js';
import { DeploymentService, type ReleaseLookup } from './deployment.service.js';
import type { HostService } from '../hosts/host.service.js';
import type { PresenceService } from '../hosts/presence.service.js';
import { RebootService } from '../hosts/reboot.service.js';
import type { Db } from '../storage/database.js';
import { DeploymentRepository, type DeploymentRow } from '../storage/deployment.repository.js';
import type { EventRepository } from '../storage/event.repository.js';

export interface DeploymentsDeps {
  db: Db;
  config: ControllerConfig;
  events: EventRepository;
  hosts: HostService;
  presence: PresenceService;
  clock: Clock;
  logger: Logger;
  releases: ReleaseLookup & { markDeployed(id: string): Promise<void> };
  cacheSource: (agentBaseUrl: string | null) => CacheSource | null;
  /** Policies react to ended deployments and manual rollbacks (bound after creation). */
  hooks: {
    onFinished(row: DeploymentRow): Promise<void>;
    onManualRollback(host: string, actor: string, reason: string): Promise<void>;
  };
}

/** Deployments wired: the API-facing service, the agent-facing runner, reboots. */
export function createDeployments(deps: DeploymentsDeps) {
  const { db, config, events, hosts, presence, clock, logger, releases } = deps;
  const repository = new DeploymentRepository(db);
  const log = new DeploymentLog(repository);
  const runner = new DeploymentRunner({
    deployments: repository,
    events,
    presence,
    log,
    clock,
    logger,
    defaults: config.deployments,
    hostSettings: config.hosts,
    cacheSource: deps.cacheSource,
    onReleaseDeployed: (id) => releases.markDeployed(id),
    onFinished: (row) => deps.hooks.onFinished(row),
  });
  const service = new DeploymentService({
    deployments: repository,
    events,
    hosts,
    runner,
    log,
    clock,
    releases,
    onManualRollback: (host, actor, reason) => deps.hooks.onManualRollback(host, actor, reason),
  });
  const reboots = new RebootService({ hosts, presence, events, clock });
  return { service, runner, reboots, repository, log };
}
