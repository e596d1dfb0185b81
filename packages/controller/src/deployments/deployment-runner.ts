import {
  FINAL_DEPLOYMENT_STATUSES,
  FlotillaError,
  type CacheSource,
  type DeployConfirmRequest,
  type DeployLog,
  type DeployProgress,
  type DeployResult,
  type DeploymentStatus,
  type HealthCheck,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { DeploymentsConfig, HostSettings } from '../config.js';
import type { DeploymentRepository, DeploymentRow } from '../storage/deployment.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { DeploymentLog } from './deployment-log.js';
import { judgeResult } from './deployment.verdict.js';
import type { PresenceService } from '../hosts/presence.service.js';

/** Statuses in which a deployment still occupies its host. */
export const ACTIVE_STATUSES: readonly DeploymentStatus[] = [
  'approved',
  'queued',
  'activating',
  'confirming',
];
const RUNNING_STATUSES: readonly DeploymentStatus[] = ['activating', 'confirming'];

export interface DeploymentRunnerOptions {
  deployments: DeploymentRepository;
  events: EventRepository;
  presence: PresenceService;
  log: DeploymentLog;
  clock: Clock;
  logger: Logger;
  defaults: DeploymentsConfig;
  hostSettings: Readonly<Record<string, HostSettings>>;
  /** The cache an agent fetches from, given the base URL it connected to. */
  cacheSource?: (agentBaseUrl: string | null) => CacheSource | null;
  /** Called when a deployment of a pipeline release succeeded. */
  onReleaseDeployed?: (releaseId: string) => Promise<void>;
  /** Called with the stored row once a deployment has ended (policies react to it). */
  onFinished?: (row: DeploymentRow) => Promise<void>;
}

/**
 * The agent-facing half of deployments: sending them to agents one at a time, confirming
 * healthy activations, recording results, reconciling after restarts and expiring
 * deployments whose host stayed away too long. Every change is written before it is acted on.
 */
export class DeploymentRunner {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeploymentRunnerOptions) {}

  start(): void {
    const every = Math.min(
      60_000,
      Math.max(1000, (this.options.defaults.queueExpirySeconds * 1000) / 10),
    );
    this.timer = setInterval(
      () =>
        void this.expireQueued().catch((error: unknown) =>
          this.options.logger.error({ err: error }, 'expiring deployments failed'),
        ),
      every,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  private isPastExpiry(row: DeploymentRow): boolean {
    const age = this.options.clock.now().getTime() - Date.parse(row.created_at);
    return age > this.options.defaults.queueExpirySeconds * 1000;
  }

  /** Ends queued deployments older than the expiry; they are never silently skipped. */
  async expireQueued(): Promise<void> {
    const { deployments, events, clock, defaults, log } = this.options;
    const now = clock.now();
    const cutoff = new Date(now.getTime() - defaults.queueExpirySeconds * 1000).toISOString();
    for (const row of await deployments.queuedBefore(cutoff)) {
      const message = `the host did not come online within ${defaults.queueExpirySeconds} s`;
      const changed = await deployments.transition(row.id, ['queued'], {
        status: 'expired',
        finished_at: now.toISOString(),
        error_message: message,
      });
      if (!changed) continue;
      await log.note(row.id, now.toISOString(), `expired: ${message}`);
      await events.append([
        {
          at: now.toISOString(),
          kind: 'deployment.expired',
          actor: 'controller',
          hostName: row.host_name,
          deploymentId: row.id,
        },
      ]);
    }
  }

  /**
   * After an agent's hello: a deployment the controller thinks is running, but which the
   * agent neither works on nor holds a result for, never reached it (the controller stopped
   * between recording and sending). It goes back to the queue and is sent again.
   */
  async reconcile(
    host: string,
    agent: { activeDeploymentId: string | null; unacknowledgedResults: readonly string[] },
  ): Promise<void> {
    const { deployments, log, clock } = this.options;
    const known = new Set([agent.activeDeploymentId, ...agent.unacknowledgedResults]);
    for (const row of await deployments.findActiveForHost(host, RUNNING_STATUSES)) {
      if (known.has(row.id)) continue;
      const requeued = await deployments.transition(row.id, RUNNING_STATUSES, {
        status: 'queued',
        started_at: null,
        phase: null,
      });
      if (requeued)
        await log.note(
          row.id,
          clock.now().toISOString(),
          'the agent never received this deployment; sending it again',
        );
    }
  }

  /** Sends the host's oldest queued deployment to its agent, if it is online and idle. */
  async dispatchPending(host: string): Promise<void> {
    const { deployments, presence, clock, logger } = this.options;
    const live = presence.get(host);
    if (!live) return;
    const active = await deployments.findActiveForHost(host, ACTIVE_STATUSES);
    // One deployment at a time: a running one blocks the queue until it reports back.
    if (active.some((d) => RUNNING_STATUSES.includes(d.status as DeploymentStatus))) return;
    const next = active.find((d) => d.status === 'queued');
    if (!next) return;
    if (this.isPastExpiry(next)) {
      // The host came back after the expiry but before the sweep: expire, never apply late.
      await this.expireQueued();
      return this.dispatchPending(host);
    }
    const started = await deployments.transition(next.id, ['queued'], {
      status: 'activating',
      started_at: clock.now().toISOString(),
    });
    if (!started) return;
    const settings = this.settingsFor(host);
    const sent = presence.send(host, {
      type: 'deploy.request',
      deploymentId: next.id,
      storePath: next.store_path,
      action: next.action,
      cache: this.options.cacheSource?.(live.baseUrl ?? null) ?? null,
      confirmTimeoutSeconds: settings.confirmTimeoutSeconds,
      healthChecks: settings.healthChecks,
    });
    if (!sent) {
      // The agent vanished between the check and the send: put it back in the queue.
      await deployments.transition(next.id, ['activating'], { status: 'queued', started_at: null });
      return;
    }
    logger.info({ host, deploymentId: next.id }, 'deployment sent to agent');
  }

  settingsFor(host: string): { confirmTimeoutSeconds: number; healthChecks: HealthCheck[] } {
    const own = this.options.hostSettings[host];
    return {
      confirmTimeoutSeconds:
        own?.confirmTimeoutSeconds ?? this.options.defaults.confirmTimeoutSeconds,
      healthChecks: own?.healthChecks ?? [],
    };
  }

  async onProgress(host: string, message: DeployProgress): Promise<void> {
    const row = await this.requireForHost(host, message.deploymentId);
    if (FINAL_DEPLOYMENT_STATUSES.has(row.status as DeploymentStatus)) return;
    await this.options.deployments.setPhase(row.id, message.phase);
  }

  async onLog(host: string, message: DeployLog): Promise<void> {
    const row = await this.requireForHost(host, message.deploymentId);
    await this.options.log.append(row.id, message.lines);
  }

  /**
   * The new system runs and passed its checks; the agent reached us from it, so confirm.
   * A deployment that already ended (expired, cancelled) is not confirmed: the host then
   * rolls back by itself when its confirm deadline passes.
   */
  async onConfirmRequest(host: string, message: DeployConfirmRequest): Promise<void> {
    const { deployments, presence, log, clock } = this.options;
    const row = await this.requireForHost(host, message.deploymentId);
    const now = clock.now().toISOString();
    const confirmed = await deployments.transition(row.id, RUNNING_STATUSES, {
      status: 'confirming',
      phase: 'confirming',
    });
    if (!confirmed)
      throw new FlotillaError(
        'validation_failed',
        `deployment ${row.id} is ${row.status}; not confirmed`,
      );
    const checks = message.health.map(
      (h) => `${h.ok ? 'passed' : 'FAILED'}: ${h.name}${h.detail ? ` (${h.detail})` : ''}`,
    );
    await log.append(
      row.id,
      [...checks, 'confirmed: the host reached the controller from the new system'].map((line) => ({
        at: now,
        stream: 'agent' as const,
        line: `[controller] ${line}`,
      })),
    );
    presence.send(host, { type: 'deploy.confirm', deploymentId: row.id });
  }

  async onResult(host: string, message: DeployResult): Promise<void> {
    const { deployments, events, clock, logger, log } = this.options;
    const row = await this.requireForHost(host, message.deploymentId);
    const verdict = judgeResult(row, message);
    const now = clock.now().toISOString();
    const changed = await deployments.transition(row.id, ['queued', ...RUNNING_STATUSES], {
      status: verdict.status,
      finished_at: now,
      exit_code: message.exitCode,
      error_code: verdict.errorCode,
      error_message: verdict.errorMessage,
      result_system: message.currentSystem,
      previous_system: message.previousSystem ?? null,
      reboot_required: message.rebootRequired ? 1 : 0,
    });
    if (!changed) {
      logger.warn({ host, deploymentId: row.id }, 'result for a finished deployment ignored');
      return;
    }
    if (verdict.note) await log.note(row.id, now, verdict.note);
    log.finished(row.id);
    if (verdict.status === 'succeeded' && row.release_id)
      await this.options.onReleaseDeployed?.(row.release_id);
    await events.append([
      {
        at: now,
        kind: `deployment.${verdict.status}`,
        actor: `agent:${host}`,
        hostName: host,
        deploymentId: row.id,
        data: {
          exitCode: message.exitCode,
          errorCode: verdict.errorCode,
          reason: verdict.errorMessage,
        },
      },
    ]);
    logger.info({ host, deploymentId: row.id, status: verdict.status }, 'deployment finished');
    const finished = await deployments.findById(row.id);
    if (finished) await this.options.onFinished?.(finished);
    await this.dispatchPending(host);
  }

  /** A deployment addressed by an agent must be one of its own host's. */
  private async requireForHost(host: string, id: string): Promise<DeploymentRow> {
    const row = await this.options.deployments.findById(id);
    if (!row || row.host_name !== host) {
      throw new FlotillaError('deployment_not_found', `no deployment "${id}" for host "${host}"`);
    }
    return row;
  }
}
