import {
  FINAL_DEPLOYMENT_STATUSES,
  FlotillaError,
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  SENT_DEPLOYMENT_STATUSES,
  type CacheSource,
  type DeployConfirmRequest,
  type DeployLog,
  type DeployProgress,
  type DeployResult,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { DeploymentsConfig, HostSettings } from '../config.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { PresenceService } from '../hosts/presence.service.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { Store } from '../storage/store.js';
import { appendDeploymentLog } from './deployment-log.js';
import type { DeploymentTransitions } from './deployment.transitions.js';
import { judgeResult } from './deployment.verdict.js';

export interface DeploymentRunnerOptions {
  store: Store;
  transitions: DeploymentTransitions;
  presence: Pick<PresenceService, 'get' | 'send'>;
  live: LiveEvents;
  clock: Clock;
  logger: Logger;
  defaults: DeploymentsConfig;
  hostSettings: Readonly<Record<string, HostSettings>>;
  /** The cache an agent fetches from, given the base URL it connected to. */
  cacheSource?: (agentBaseUrl: string | null) => CacheSource | null;
  /**
   * Called inside the transaction that records a deployment's end, so the rules' reactions
   * (demotion, quarantine, halt) commit with it or not at all.
   */
  onFinished?: (tx: Store, row: DeploymentRow) => Promise<void>;
  /** Called after a deployment ended and its transaction committed (the rollout moves on). */
  afterFinished?: (row: DeploymentRow) => Promise<void>;
}

/**
 * The agent-facing half of deployments: sending them to agents one at a time, confirming
 * healthy activations, recording results, reconciling after restarts and expiring
 * deployments whose host stayed away too long. Every change is written (in one
 * transaction with its log line and audit entry) before it is acted on.
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
    const { store, transitions, clock, defaults } = this.options;
    const now = clock.now();
    const cutoff = new Date(now.getTime() - defaults.queueExpirySeconds * 1000).toISOString();
    for (const row of await store.deployments.queuedBefore(cutoff)) {
      const message = `the host did not come online within ${defaults.queueExpirySeconds} s`;
      await store.transaction((tx) =>
        transitions.apply(tx, row, {
          to: 'expired',
          changes: { finished_at: now.toISOString(), error_message: message },
          note: `expired: ${message}`,
          audit: { kind: 'deployment.expired', actor: 'controller' },
        }),
      );
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
    const { store, transitions } = this.options;
    const known = new Set([agent.activeDeploymentId, ...agent.unacknowledgedResults]);
    for (const row of await store.deployments.forHost(host, SENT_DEPLOYMENT_STATUSES)) {
      if (known.has(row.id)) continue;
      await store.transaction((tx) =>
        transitions.apply(tx, row, {
          to: 'queued',
          changes: { started_at: null, phase: null },
          note: 'the agent never received this deployment; sending it again',
        }),
      );
    }
  }

  /** Sends the host's queued deployment to its agent, if it is online and idle. */
  async dispatchPending(host: string): Promise<void> {
    const { store, transitions, presence, clock, logger } = this.options;
    const live = presence.get(host);
    if (!live) return;
    const inFlight = await store.deployments.forHost(host, IN_FLIGHT_DEPLOYMENT_STATUSES);
    // One deployment at a time: a running one blocks the queue until it reports back.
    if (inFlight.some((d) => SENT_DEPLOYMENT_STATUSES.includes(d.status))) return;
    const next = inFlight.find((d) => d.status === 'queued');
    if (!next) return;
    if (this.isPastExpiry(next)) {
      // The host came back after the expiry but before the sweep: expire, never apply late.
      await this.expireQueued();
      return;
    }
    // Recorded before it is sent: a crash in between is found by `reconcile`.
    const started = await store.transaction((tx) =>
      transitions.apply(tx, next, {
        to: 'activating',
        changes: { started_at: clock.now().toISOString() },
      }),
    );
    if (!started) return;
    // No keys and no health checks: the agent trusts only its own config for those.
    const sent = presence.send(host, {
      type: 'deploy.request',
      deploymentId: next.id,
      storePath: next.store_path,
      action: next.action,
      cache: this.options.cacheSource?.(live.baseUrl ?? null) ?? null,
      confirmTimeoutSeconds: this.confirmTimeoutFor(host),
    });
    if (!sent) {
      // The agent vanished between the check and the send: put it back in the queue.
      await store.transaction((tx) =>
        transitions.apply(tx, started, { to: 'queued', changes: { started_at: null } }),
      );
      return;
    }
    logger.info({ host, deploymentId: next.id }, 'deployment sent to agent');
  }

  private confirmTimeoutFor(host: string): number {
    const own = this.options.hostSettings[host];
    return own?.confirmTimeoutSeconds ?? this.options.defaults.confirmTimeoutSeconds;
  }

  async onProgress(host: string, message: DeployProgress): Promise<void> {
    const row = await this.requireForHost(host, message.deploymentId);
    if (FINAL_DEPLOYMENT_STATUSES.has(row.status)) return;
    const at = this.options.clock.now().toISOString();
    await this.options.store.transaction((tx) =>
      tx.deployments.setPhase(row.id, message.phase, SENT_DEPLOYMENT_STATUSES, at),
    );
    this.options.live.publish({
      type: 'deployment.changed',
      id: row.id,
      host: row.host_name,
      status: row.status,
    });
  }

  async onLog(host: string, message: DeployLog): Promise<void> {
    const row = await this.requireForHost(host, message.deploymentId);
    await appendDeploymentLog(this.options.store, this.options.live, row.id, message.lines);
  }

  /**
   * The new system runs and passed its checks; the agent reached us from it, so confirm.
   * A deployment that already ended (expired, cancelled) is not confirmed: the host then
   * rolls back by itself when its confirm deadline passes.
   */
  async onConfirmRequest(host: string, message: DeployConfirmRequest): Promise<void> {
    const { store, transitions, presence, clock } = this.options;
    const row = await this.requireForHost(host, message.deploymentId);
    const checks = message.health.map(
      (h) => `${h.ok ? 'passed' : 'FAILED'}: ${h.name}${h.detail ? ` (${h.detail})` : ''}`,
    );
    const confirmed = SENT_DEPLOYMENT_STATUSES.includes(row.status)
      ? await store.transaction(async (tx) => {
          const moved = await transitions.apply(tx, row, {
            to: 'confirming',
            changes: { phase: 'confirming' },
          });
          if (moved) {
            const at = clock.now().toISOString();
            await appendDeploymentLog(
              tx,
              this.options.live,
              row.id,
              [...checks, 'confirmed: the host reached the controller from the new system'].map(
                (line) => ({ at, stream: 'agent' as const, line: `[controller] ${line}` }),
              ),
            );
          }
          return moved;
        })
      : undefined;
    if (!confirmed)
      throw new FlotillaError(
        'validation_failed',
        `deployment ${row.id} is ${row.status}; not confirmed`,
      );
    presence.send(host, { type: 'deploy.confirm', deploymentId: row.id });
  }

  async onResult(host: string, message: DeployResult): Promise<void> {
    const { store, transitions, clock, logger } = this.options;
    const row = await this.requireForHost(host, message.deploymentId);
    const verdict = judgeResult(row, message);
    const now = clock.now().toISOString();
    const finished = await store.transaction(async (tx) => {
      const current = await tx.deployments.findById(row.id);
      if (!current || FINAL_DEPLOYMENT_STATUSES.has(current.status)) return undefined;
      const moved = await transitions.apply(tx, current, {
        to: verdict.status,
        changes: {
          finished_at: now,
          exit_code: message.exitCode,
          error_code: verdict.errorCode,
          error_message: verdict.errorMessage,
          result_system: message.currentSystem,
          previous_system: message.previousSystem ?? null,
          reboot_required: message.rebootRequired ? 1 : 0,
          hold_reason: null,
        },
        ...(verdict.note ? { note: verdict.note } : {}),
        audit: {
          kind: `deployment.${verdict.status}`,
          actor: `agent:${host}`,
          data: {
            exitCode: message.exitCode,
            errorCode: verdict.errorCode,
            reason: verdict.errorMessage,
          },
        },
      });
      if (!moved) return undefined;
      if (moved.status === 'succeeded' && moved.release_id) {
        await tx.releases.markDeployed(moved.release_id);
        this.options.live.publish({ type: 'releases.changed', revision: moved.revision_id }, tx);
      }
      await this.options.onFinished?.(tx, moved);
      return moved;
    });
    if (!finished) {
      logger.warn({ host, deploymentId: row.id }, 'result for a finished deployment ignored');
      return;
    }
    logger.info({ host, deploymentId: row.id, status: verdict.status }, 'deployment finished');
    await this.options.afterFinished?.(finished);
    await this.dispatchPending(host);
  }

  /** A deployment addressed by an agent must be one of its own host's. */
  private async requireForHost(host: string, id: string): Promise<DeploymentRow> {
    const row = await this.options.store.deployments.findById(id);
    if (!row || row.host_name !== host) {
      throw new FlotillaError('deployment_not_found', `no deployment "${id}" for host "${host}"`);
    }
    return row;
  }
}
