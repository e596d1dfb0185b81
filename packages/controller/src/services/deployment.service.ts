import {
  FINAL_DEPLOYMENT_STATUSES,
  FlotillaError,
  type CacheSource,
  type CreateDeploymentRequest,
  type DeployLog,
  type DeployProgress,
  type DeployResult,
  type Deployment,
  type DeploymentList,
  type DeploymentListQuery,
  type DeploymentStatus,
  type DeploymentWithLog,
  type LogPage,
  type LogQuery,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type {
  DeploymentRepository,
  DeploymentRow,
  LogLineInput,
} from '../storage/deployment.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import { newId } from '../tokens.js';
import type { HostService } from './host.service.js';
import type { PresenceService } from './presence.service.js';

/** Statuses in which a deployment still occupies its host. */
const ACTIVE_STATUSES: readonly DeploymentStatus[] = [
  'approved',
  'queued',
  'activating',
  'confirming',
];
const RUNNING_STATUSES: readonly DeploymentStatus[] = ['activating', 'confirming'];

/** A deployment's stored log is capped; past this many lines one marker line is kept. */
export const MAX_LOG_LINES = 20_000;

/** How deployments find pipeline releases (set once the pipeline exists). */
export interface ReleaseLookup {
  require(
    id: string,
  ): Promise<{ id: string; host_name: string; store_path: string; status: string }>;
  markDeployed(id: string): Promise<void>;
}

export interface DeploymentServiceOptions {
  deployments: DeploymentRepository;
  events: EventRepository;
  hosts: HostService;
  presence: PresenceService;
  clock: Clock;
  logger: Logger;
  releases?: ReleaseLookup;
  /**
   * The binary cache an agent fetches from, given the base URL it connected to (null when
   * unknown); without it deploy requests carry `cache: null`.
   */
  cacheSource?: (agentBaseUrl: string | null) => CacheSource | null;
}

/**
 * Deployments from request to final status. Every status change is written before it is
 * acted on, so a controller restart resumes from the database.
 */
export class DeploymentService {
  /** Next log sequence number per deployment that is receiving lines. */
  private readonly nextSeq = new Map<string, number>();

  constructor(private readonly options: DeploymentServiceOptions) {}

  async create(request: CreateDeploymentRequest, actor: string): Promise<Deployment> {
    const { deployments, events, hosts, clock } = this.options;
    const host = await hosts.require(request.host);
    if (host.mode !== 'managed') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${host.name}" is monitor-only; Flotilla never deploys to it`,
      );
    }
    const active = await deployments.findActiveForHost(host.name, ACTIVE_STATUSES);
    const busy = active[0];
    if (busy) {
      throw new FlotillaError(
        'deployment_in_progress',
        `host "${host.name}" already has deployment ${busy.id} (${busy.status})`,
        { deploymentId: busy.id },
      );
    }
    const target = await this.resolveTarget(host.name, request);
    const now = clock.now();
    const id = newId('d', now);
    await deployments.insert({
      id,
      host_name: host.name,
      store_path: target.storePath,
      release_id: target.releaseId,
      action: request.action,
      status: 'queued',
      phase: null,
      actor,
      created_at: now.toISOString(),
      started_at: null,
      finished_at: null,
      exit_code: null,
      error_code: null,
      error_message: null,
      result_system: null,
    });
    await events.append([
      {
        at: now.toISOString(),
        kind: 'deployment.created',
        actor,
        hostName: host.name,
        deploymentId: id,
        data: { storePath: target.storePath, releaseId: target.releaseId, action: request.action },
      },
    ]);
    await this.dispatchPending(host.name);
    return this.require(id).then(toDeployment);
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

  /** Sends the host's oldest queued deployment to its agent, if it is online. */
  async dispatchPending(hostName: string): Promise<void> {
    const { deployments, presence, clock, logger } = this.options;
    if (!presence.get(hostName)) return;
    const active = await deployments.findActiveForHost(hostName, ACTIVE_STATUSES);
    // One deployment at a time: a running one blocks the queue until it reports back.
    if (active.some((d) => RUNNING_STATUSES.includes(d.status as DeploymentStatus))) return;
    const next = active.find((d) => d.status === 'queued');
    if (!next) return;
    const started = await deployments.transition(next.id, ['queued'], {
      status: 'activating',
      started_at: clock.now().toISOString(),
    });
    if (!started) return;
    const sent = presence.send(hostName, {
      type: 'deploy.request',
      deploymentId: next.id,
      storePath: next.store_path,
      action: next.action,
      cache: this.options.cacheSource?.(presence.get(hostName)?.baseUrl ?? null) ?? null,
    });
    if (!sent) {
      // The agent vanished between the check and the send: put it back in the queue.
      await deployments.transition(next.id, ['activating'], { status: 'queued', started_at: null });
      return;
    }
    logger.info({ host: hostName, deploymentId: next.id }, 'deployment sent to agent');
  }

  async onProgress(hostName: string, message: DeployProgress): Promise<void> {
    const row = await this.requireForHost(hostName, message.deploymentId);
    if (FINAL_DEPLOYMENT_STATUSES.has(row.status as DeploymentStatus)) return;
    await this.options.deployments.setPhase(row.id, message.phase);
  }

  async onLog(hostName: string, message: DeployLog): Promise<void> {
    const row = await this.requireForHost(hostName, message.deploymentId);
    await this.appendLog(row.id, message.lines);
  }

  async onResult(hostName: string, message: DeployResult): Promise<void> {
    const { deployments, events, clock, logger } = this.options;
    const row = await this.requireForHost(hostName, message.deploymentId);
    const verdict = judgeResult(row, message);
    const now = clock.now().toISOString();
    const changed = await deployments.transition(row.id, ['queued', ...RUNNING_STATUSES], {
      status: verdict.status,
      finished_at: now,
      exit_code: message.exitCode,
      error_code: verdict.errorCode,
      error_message: verdict.errorMessage,
      result_system: message.currentSystem,
    });
    if (!changed) {
      logger.warn(
        { host: hostName, deploymentId: row.id },
        'result for a finished deployment ignored',
      );
      return;
    }
    if (verdict.note) {
      await this.appendLog(row.id, [{ at: now, stream: 'agent', line: verdict.note }]);
    }
    this.nextSeq.delete(row.id);
    if (verdict.status === 'succeeded' && row.release_id && this.options.releases) {
      await this.options.releases.markDeployed(row.release_id);
    }
    await events.append([
      {
        at: now,
        kind: `deployment.${verdict.status}`,
        actor: `agent:${hostName}`,
        hostName,
        deploymentId: row.id,
        data: { exitCode: message.exitCode, errorCode: verdict.errorCode },
      },
    ]);
    logger.info(
      { host: hostName, deploymentId: row.id, status: verdict.status },
      'deployment finished',
    );
    await this.dispatchPending(hostName);
  }

  private async appendLog(id: string, lines: readonly LogLineInput[]): Promise<void> {
    const { deployments } = this.options;
    let next = this.nextSeq.get(id);
    if (next === undefined) next = (await deployments.lastLogSeq(id)) + 1;
    if (next > MAX_LOG_LINES + 1) return;
    const room = MAX_LOG_LINES + 1 - next;
    let kept = lines.slice(0, room);
    if (lines.length > room) {
      kept = [
        ...kept,
        {
          at: lines[room]?.at ?? new Date().toISOString(),
          stream: 'agent',
          line: `[log truncated: only the first ${MAX_LOG_LINES} lines are stored]`,
        },
      ];
    }
    await deployments.appendLog(id, next, kept);
    this.nextSeq.set(id, next + kept.length);
  }

  private async require(id: string): Promise<DeploymentRow> {
    const row = await this.options.deployments.findById(id);
    if (!row) throw new FlotillaError('deployment_not_found', `no deployment with id "${id}"`);
    return row;
  }

  /** A deployment addressed by an agent must be one of its own host's. */
  private async requireForHost(hostName: string, id: string): Promise<DeploymentRow> {
    const row = await this.options.deployments.findById(id);
    if (!row || row.host_name !== hostName) {
      throw new FlotillaError(
        'deployment_not_found',
        `no deployment "${id}" for host "${hostName}"`,
      );
    }
    return row;
  }
}

interface Verdict {
  status: DeploymentStatus;
  errorCode: string | null;
  errorMessage: string | null;
  note: string | null;
}

/**
 * Decides the final status. A deployment that changes the running system succeeds only
 * when the agent's freshly read current system is the deployed store path: an exit code
 * of 0 alone is not proof.
 */
function judgeResult(row: DeploymentRow, message: DeployResult): Verdict {
  if (message.outcome !== 'succeeded') {
    return {
      status: 'failed',
      errorCode: message.error?.code ?? 'activation_failed',
      errorMessage: message.error?.message ?? `agent reported ${message.outcome}`,
      note: null,
    };
  }
  const changesRunningSystem = row.action === 'switch' || row.action === 'test';
  if (changesRunningSystem && message.currentSystem !== row.store_path) {
    const running = message.currentSystem ?? 'nothing';
    return {
      status: 'failed',
      errorCode: 'verification_failed',
      errorMessage: `activation reported success but the host runs ${running}, not ${row.store_path}`,
      note: `verification failed: host runs ${running}`,
    };
  }
  return { status: 'succeeded', errorCode: null, errorMessage: null, note: null };
}

export function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    host: row.host_name,
    storePath: row.store_path,
    releaseId: row.release_id,
    action: row.action,
    status: row.status as DeploymentStatus,
    phase: (row.phase as Deployment['phase']) ?? null,
    actor: row.actor,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    exitCode: row.exit_code,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    resultSystem: row.result_system,
  };
}
