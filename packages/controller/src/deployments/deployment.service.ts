import {
  FlotillaError,
  type CreateDeploymentRequest,
  type DeployAction,
  type Deployment,
  type DeploymentList,
  type DeploymentListQuery,
  type DeploymentStatus,
  type DeploymentWithLog,
  type LogPage,
  type LogQuery,
  type RollbackRequest,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { DeploymentRepository, DeploymentRow } from '../storage/deployment.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import { newId } from '../support/tokens.js';
import { MAX_LOG_LINES, type DeploymentLog } from './deployment-log.js';
import { ACTIVE_STATUSES, type DeploymentRunner } from './deployment-runner.js';
import { toDeployment } from './deployment.verdict.js';
import type { HostService } from '../hosts/host.service.js';

/** How deployments find pipeline releases (set once the pipeline exists). */
export interface ReleaseLookup {
  require(
    id: string,
  ): Promise<{ id: string; host_name: string; store_path: string; status: string }>;
}

export interface DeploymentServiceOptions {
  deployments: DeploymentRepository;
  events: EventRepository;
  hosts: HostService;
  runner: DeploymentRunner;
  log: DeploymentLog;
  clock: Clock;
  releases?: ReleaseLookup;
  /** A human rolled a host back by hand: policies pin it. */
  onManualRollback?: (host: string, actor: string, reason: string) => Promise<void>;
}

interface NewDeployment {
  host: string;
  storePath: string;
  releaseId: string | null;
  action: DeployAction;
  kind: 'deploy' | 'rollback';
  note: string | null;
}

/**
 * The API-facing half of deployments: creating them (from a store path, a release or a
 * generation to roll back to) and reading them. Sending and tracking is the runner's job.
 */
export class DeploymentService {
  constructor(private readonly options: DeploymentServiceOptions) {}

  async create(request: CreateDeploymentRequest, actor: string): Promise<Deployment> {
    const target = await this.resolveTarget(request.host, request);
    return this.insert(
      { host: request.host, ...target, action: request.action, kind: 'deploy', note: null },
      actor,
    );
  }

  /**
   * Re-activates an earlier generation of the host (by default the one before the
   * current): a deployment like any other, so it is confirmed and can roll back too.
   */
  async rollback(hostName: string, request: RollbackRequest, actor: string): Promise<Deployment> {
    const host = await this.options.hosts.get(hostName);
    const generations = host.facts?.generations ?? [];
    const current = generations.find((g) => g.current);
    const target =
      request.generation !== undefined
        ? generations.find((g) => g.number === request.generation)
        : generations
            .filter((g) => current === undefined || g.number < current.number)
            .sort((a, b) => b.number - a.number)[0];
    if (!target) {
      const known = generations.map((g) => g.number).join(', ') || 'none reported';
      throw new FlotillaError(
        'validation_failed',
        request.generation !== undefined
          ? `host "${hostName}" has no generation ${request.generation} (known: ${known})`
          : `host "${hostName}" has no generation before the current one (known: ${known})`,
      );
    }
    const note = `manual rollback to generation ${target.number} (${target.path})`;
    await this.options.onManualRollback?.(hostName, actor, note);
    return this.insert(
      {
        host: hostName,
        storePath: target.path,
        releaseId: null,
        action: 'switch',
        kind: 'rollback',
        note,
      },
      actor,
    );
  }

  private async insert(input: NewDeployment, actor: string): Promise<Deployment> {
    const { deployments, events, hosts, clock, log, runner } = this.options;
    // One read of the host: its mode decides, its live facts tell what runs now.
    const host = await hosts.get(input.host);
    if (host.mode !== 'managed') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${host.name}" is monitor-only; Flotilla never deploys to it`,
      );
    }
    const busy = (await deployments.findActiveForHost(host.name, ACTIVE_STATUSES))[0];
    if (busy) {
      throw new FlotillaError(
        'deployment_in_progress',
        `host "${host.name}" already has deployment ${busy.id} (${busy.status})`,
        { deploymentId: busy.id },
      );
    }
    const now = clock.now();
    const id = newId('d', now);
    // Deploying what already runs changes nothing: it succeeds at once, without the agent.
    const running = host.facts?.system.current ?? null;
    const noop =
      running === input.storePath && (input.action === 'switch' || input.action === 'test');
    await deployments.insert({
      id,
      host_name: host.name,
      store_path: input.storePath,
      release_id: input.releaseId,
      kind: input.kind,
      action: input.action,
      status: noop ? 'succeeded' : 'queued',
      phase: null,
      actor,
      created_at: now.toISOString(),
      started_at: noop ? now.toISOString() : null,
      finished_at: noop ? now.toISOString() : null,
      exit_code: null,
      error_code: null,
      error_message: null,
      result_system: noop ? running : null,
    });
    if (input.note) await log.note(id, now.toISOString(), input.note);
    if (noop)
      await log.note(
        id,
        now.toISOString(),
        `${input.storePath} is already running on ${host.name}: nothing to do`,
      );
    await events.append([
      {
        at: now.toISOString(),
        kind: input.kind === 'rollback' ? 'deployment.rollback_requested' : 'deployment.created',
        actor,
        hostName: host.name,
        deploymentId: id,
        data: {
          storePath: input.storePath,
          releaseId: input.releaseId,
          action: input.action,
          noop,
        },
      },
    ]);
    if (!noop) await runner.dispatchPending(host.name);
    return toDeployment(await this.require(id));
  }

  /** The store path to deploy: given directly, or the one of a ready release of this host. */
  private async resolveTarget(
    host: string,
    request: CreateDeploymentRequest,
  ): Promise<{ storePath: string; releaseId: string | null }> {
    if (request.storePath !== undefined) return { storePath: request.storePath, releaseId: null };
    const releases = this.options.releases;
    if (!releases || request.releaseId === undefined) {
      throw new FlotillaError('validation_failed', 'give a storePath or a releaseId');
    }
    const release = await releases.require(request.releaseId);
    if (release.host_name !== host) {
      throw new FlotillaError(
        'validation_failed',
        `release ${release.id} was built for host "${release.host_name}", not "${host}"`,
      );
    }
    if (release.status === 'publishing') {
      throw new FlotillaError(
        'validation_failed',
        `release ${release.id} is still being published to the cache`,
      );
    }
    return { storePath: release.store_path, releaseId: release.id };
  }

  async get(id: string): Promise<DeploymentWithLog> {
    const row = await this.require(id);
    const lines = await this.options.deployments.readLog(id, 0, MAX_LOG_LINES + 1);
    return { ...toDeployment(row), log: lines };
  }

  async list(query: DeploymentListQuery): Promise<DeploymentList> {
    const rows = await this.options.deployments.list(query.limit, query.host);
    return { deployments: rows.map(toDeployment) };
  }

  async readLog(id: string, query: LogQuery): Promise<LogPage> {
    const row = await this.require(id);
    const lines = await this.options.deployments.readLog(id, query.after, query.limit);
    return {
      lines,
      last: lines.at(-1)?.seq ?? query.after,
      status: row.status as DeploymentStatus,
    };
  }

  private async require(id: string): Promise<DeploymentRow> {
    const row = await this.options.deployments.findById(id);
    if (!row) throw new FlotillaError('deployment_not_found', `no deployment with id "${id}"`);
    return row;
  }
}
