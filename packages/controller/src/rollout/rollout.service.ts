import {
  FlotillaError,
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  OPEN_DEPLOYMENT_STATUSES,
  TROUBLE_DEPLOYMENT_STATUSES,
  type DeployWindowList,
  type DeploymentStatus,
  type ResumeRolloutRequest,
  type Rollout,
  type RolloutHost,
  type WaveList,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { Wave } from '../config.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { DeploymentTransitions } from '../deployments/deployment.transitions.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { Notifier } from '../notifications/notification.service.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import { parseEvaluation } from '../storage/evaluation.repository.js';
import type { Store } from '../storage/store.js';
import { describeWindows, isWithinWindows } from './deploy-window.js';
import { deployWindowList } from './deploy-windows.view.js';
import { haltRollout, quarantineRelease, recordTrouble } from './policy.writes.js';
import { earlierWaves, waveOf, windowsFor, type RolloutConfig } from './waves.js';

/** Statuses that mean a host is done with a revision without it running there. */
const DROPPED: readonly DeploymentStatus[] = ['rejected', 'superseded', 'cancelled', 'expired'];

export interface RolloutServiceOptions {
  store: Store;
  transitions: DeploymentTransitions;
  runner: Pick<DeploymentRunner, 'dispatchPending'>;
  notifier: Notifier;
  /** Told about quarantined releases and resumed rollouts (the deployments' own moves tell the rest). */
  live: LiveEvents;
  config: RolloutConfig;
  clock: Clock;
  logger: Logger;
  /** How often time-based gates (soak, windows) are looked at again, in ms. */
  tickMs?: number;
}

/**
 * After approval, one set of gates for every deployment: the revision's rollout is not
 * halted, the earlier waves have finished and soaked, the deploy window is open (unless a
 * person forced it), and the host runs nothing else; then it is queued for the agent.
 * Trouble demotes, quarantines and halts, in the transaction that records it.
 */
export class RolloutService {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: RolloutServiceOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 5000);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  /** Looks at every approved deployment and queues those whose gates are open. */
  tick(): Promise<void> {
    this.ticking = this.ticking
      .then(() => this.passGates())
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'rollout gates failed'));
    return this.ticking;
  }

  private async passGates(): Promise<void> {
    const { store, transitions, runner } = this.options;
    for (const approved of await store.deployments.withStatus(['approved'])) {
      const queued = await store.transaction(async (tx) => {
        const row = await tx.deployments.findById(approved.id);
        if (row?.status !== 'approved') return false;
        const hold = await this.holdReason(tx, row);
        if (hold === null) {
          return (await transitions.apply(tx, row, {
            to: 'queued',
            changes: { hold_reason: null },
          }))
            ? true
            : false;
        }
        if (hold !== row.hold_reason) {
          await transitions.apply(tx, row, {
            to: 'approved',
            changes: { hold_reason: hold },
            note: `waiting: ${hold}`,
          });
        }
        return false;
      });
      if (queued) await runner.dispatchPending(approved.host_name);
    }
  }

  /** Why an approved deployment may not be queued yet, in words; null when it may. */
  async holdReason(tx: Store, d: DeploymentRow): Promise<string | null> {
    const { config, clock } = this.options;
    if (d.revision_id) {
      const halt = await tx.policies.haltOf(d.revision_id);
      if (halt) {
        return `the rollout of this revision is halted (${halt.reason}); flotilla rollout resume ${d.revision_id}`;
      }
      if (d.override_wave !== 1) {
        for (const earlier of earlierWaves(config, d.host_name)) {
          const wait = await this.waveWait(tx, earlier, d.revision_id);
          if (wait) return wait;
        }
      }
    }
    const busy = (await tx.deployments.forHost(d.host_name, IN_FLIGHT_DEPLOYMENT_STATUSES))[0];
    if (busy) return `another deployment (${busy.id}, ${busy.status}) is running on the host`;
    const windows = windowsFor(config, d.host_name);
    if (d.override_window !== 1 && windows.length > 0 && !isWithinWindows(windows, clock.now())) {
      return `outside the deploy window (${describeWindows(windows)})`;
    }
    return null;
  }

  /** Why a wave is not done with a revision yet (deploying or soaking), or null. */
  private async waveWait(tx: Store, wave: Wave, revisionId: string): Promise<string | null> {
    const now = this.options.clock.now().getTime();
    const ofRevision = await tx.deployments.forRevision(revisionId);
    for (const host of wave.hosts) {
      const latest = ofRevision.find((d) => d.host_name === host);
      if (!latest || DROPPED.includes(latest.status)) continue;
      if (OPEN_DEPLOYMENT_STATUSES.includes(latest.status))
        return `wave ${wave.name} has not finished (${host}: ${latest.status})`;
      if (latest.status === 'succeeded' && latest.finished_at) {
        const until = Date.parse(latest.finished_at) + wave.soakSeconds * 1000;
        if (until > now)
          return `wave ${wave.name} is soaking until ${new Date(until).toISOString()}`;
      }
    }
    return null;
  }

  /**
   * A deployment ended (inside the transaction that records it). Trouble restarts the
   * host's stable period and demotes an `auto` host; a release that rolled back by itself
   * is quarantined; trouble inside a wave halts the revision.
   */
  async onDeploymentFinished(tx: Store, row: DeploymentRow): Promise<void> {
    const { clock, notifier, config } = this.options;
    if (!TROUBLE_DEPLOYMENT_STATUSES.includes(row.status)) return;
    const reason = `deployment ${row.id} ${row.status.replace('_', ' ')}: ${row.error_message ?? 'no reason given'}`;
    await recordTrouble(tx, clock, notifier, {
      host: row.host_name,
      reason,
      deploymentId: row.id,
    });
    if (row.status === 'rolled_back' && row.release_id) {
      this.options.live.publish({ type: 'releases.changed', revision: row.revision_id }, tx);
      await quarantineRelease(tx, clock, {
        releaseId: row.release_id,
        host: row.host_name,
        reason,
        deploymentId: row.id,
      });
    }
    if (row.revision_id && waveOf(config, row.host_name)) {
      await haltRollout(tx, clock, notifier, {
        revisionId: row.revision_id,
        reason,
        host: row.host_name,
        deploymentId: row.id,
      });
    }
    await notifier.queue(tx, {
      kind: row.status === 'failed' ? 'deployment.failed' : 'deployment.rolled_back',
      host: row.host_name,
      summary: reason,
      data: { deploymentId: row.id },
    });
  }

  /** Lifts a revision's halt; its held deployments move on through the gates. */
  async resume(revisionId: string, request: ResumeRolloutRequest, actor: string): Promise<Rollout> {
    const { store, clock } = this.options;
    await this.requireRevision(revisionId);
    const resumed = await store.transaction(async (tx) => {
      const halt = await tx.policies.haltOf(revisionId);
      if (!halt || !(await tx.policies.resume(revisionId))) return false;
      this.options.live.publish({ type: 'rollout.changed', id: revisionId }, tx);
      await tx.events.append([
        {
          at: clock.now().toISOString(),
          kind: 'rollout.resumed',
          actor,
          data: { revisionId, reason: request.reason, haltReason: halt.reason },
        },
      ]);
      return true;
    });
    if (!resumed) {
      throw new FlotillaError(
        'rollout_not_halted',
        `the rollout of revision ${revisionId} is not halted`,
      );
    }
    await this.tick();
    return this.rollout(revisionId);
  }

  waves(): WaveList {
    return {
      waves: this.options.config.rollout.waves.map((w) => ({
        name: w.name,
        hosts: w.hosts,
        soakSeconds: w.soakSeconds,
      })),
    };
  }

  /** The config file's deploy windows per host and wave, and whether each is open now. */
  windows(): DeployWindowList {
    return deployWindowList(this.options.config, this.options.clock.now());
  }

  /** Where a revision's rollout stands, wave by wave; hosts it does not change say so. */
  async rollout(revisionId: string): Promise<Rollout> {
    const { store, config, clock } = this.options;
    const revision = await this.requireRevision(revisionId);
    const halt = await store.policies.haltOf(revisionId);
    const ofRevision = await store.deployments.forRevision(revisionId);
    const evaluation = parseEvaluation(revision.evaluation_json);
    const now = clock.now().getTime();
    const hostOf = async (host: string): Promise<RolloutHost> => {
      const latest = ofRevision.find((d) => d.host_name === host);
      if (latest) {
        return {
          host,
          change: 'changed',
          deploymentId: latest.id,
          status: latest.status,
          holdReason: latest.hold_reason,
        };
      }
      return {
        host,
        change: await this.changeOf(host, revisionId, evaluation),
        deploymentId: null,
        status: null,
        holdReason: null,
      };
    };
    const waves: Rollout['waves'] = [];
    for (const wave of config.rollout.waves) {
      const hosts = await Promise.all(wave.hosts.map(hostOf));
      const finishedTimes = ofRevision
        .filter(
          (d) => wave.hosts.includes(d.host_name) && d.status === 'succeeded' && d.finished_at,
        )
        .map((d) => Date.parse(d.finished_at ?? ''));
      const soakUntil =
        finishedTimes.length > 0 ? Math.max(...finishedTimes) + wave.soakSeconds * 1000 : null;
      const statuses = hosts.flatMap((h) => (h.status === null ? [] : [h.status]));
      const state: Rollout['waves'][number]['state'] =
        statuses.some((s) => TROUBLE_DEPLOYMENT_STATUSES.includes(s)) || halt
          ? 'halted'
          : statuses.some((s) => OPEN_DEPLOYMENT_STATUSES.includes(s))
            ? statuses.some((s) => IN_FLIGHT_DEPLOYMENT_STATUSES.includes(s))
              ? 'deploying'
              : 'waiting'
            : soakUntil !== null && soakUntil > now
              ? 'soaking'
              : 'done';
      waves.push({
        name: wave.name,
        state,
        soakUntil: soakUntil === null ? null : new Date(soakUntil).toISOString(),
        hosts,
      });
    }
    return {
      revisionId,
      sha: revision.sha,
      halted: halt !== undefined,
      haltReason: halt?.reason ?? null,
      haltedAt: halt?.at ?? null,
      waves,
    };
  }

  /**
   * Whether a revision changes a host that has no deployment of it: `unchanged` when its
   * derivation equals the one of the host's release built before, `failed` when it did not
   * evaluate, `not_in_flake` when the flake does not declare it, else `changed` (built or
   * still being built).
   */
  private async changeOf(
    host: string,
    revisionId: string,
    evaluation: ReturnType<typeof parseEvaluation>,
  ): Promise<RolloutHost['change']> {
    if (!evaluation) return 'pending';
    if (evaluation.hostErrors[host] !== undefined) return 'failed';
    const drv = evaluation.nixos[host];
    if (drv === undefined) return 'not_in_flake';
    const own = await this.options.store.releases.findForHostRevision(host, revisionId);
    if (own) return 'changed';
    const latest = await this.options.store.releases.latestForHost(host);
    return latest?.drv_path === drv ? 'unchanged' : 'changed';
  }

  private async requireRevision(id: string) {
    const revision = await this.options.store.evaluations.revision(id);
    if (!revision) throw new FlotillaError('revision_not_found', `no revision with id "${id}"`);
    return revision;
  }
}
