import { FlotillaError, type HostRollout, type Rollout, type WaveStatus } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { NotificationEvent } from '../notifications/notification.service.js';
import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig } from '../config.js';
import { describeWindows, isWithinWindows, type DeployWindow } from './deploy-window.js';
import type { DeploymentRepository, DeploymentRow } from '../storage/deployment.repository.js';
import { parseEvaluation, type EvaluationRepository } from '../storage/evaluation.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { PolicyRepository } from '../storage/policy.repository.js';
import type { ReleaseRepository, ReleaseView } from '../storage/release.repository.js';
import { newId } from '../support/tokens.js';
import type { DeploymentLog } from '../deployments/deployment-log.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { HostService } from '../hosts/host.service.js';
import type { PolicyService } from './policy.service.js';

const WAITING = ['awaiting_approval', 'approved'] as const;
const UNFINISHED = ['awaiting_approval', 'approved', 'queued', 'activating', 'confirming'];
const TROUBLE = ['failed', 'rolled_back'];

export interface RolloutServiceOptions {
  deployments: DeploymentRepository;
  releases: ReleaseRepository;
  evaluations: EvaluationRepository;
  policyRows: PolicyRepository;
  policies: PolicyService;
  hosts: HostService;
  events: EventRepository;
  runner: DeploymentRunner;
  log: DeploymentLog;
  config: Pick<ControllerConfig, 'hosts' | 'rollout'>;
  clock: Clock;
  logger: Logger;
  notify?: (event: NotificationEvent) => Promise<void>;
  /** How often time-based gates (soak, windows) are looked at again, in ms. */
  tickMs?: number;
}

/**
 * From release to deployment under the humans' rules: a release waits for approval on a
 * `manual` host and is approved by the policy on an `auto` one (unless the host is pinned
 * or the release quarantined); an approved deployment then waits for its wave, the soak of
 * earlier waves and its deploy window before it is queued for the agent.
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

  /** A release became ready: supersede what waited for older ones, then apply the policy. */
  async onReleaseReady(release: ReleaseView): Promise<void> {
    const { deployments, policies, policyRows, hosts, events, clock, log } = this.options;
    if (!(await hosts.exists(release.host_name))) return; // discovered in the flake, no agent yet
    const policy = await policies.row(release.host_name);
    if (policy.policy === 'monitor') return;
    const now = clock.now().toISOString();
    for (const old of await deployments.findActiveForHost(release.host_name, WAITING)) {
      if (old.release_id === release.id) return; // already planned
      if (
        await deployments.transition(old.id, WAITING, {
          status: 'superseded',
          finished_at: now,
          hold_reason: null,
        })
      ) {
        await log.note(old.id, now, `superseded by release ${release.id}`);
      }
    }
    const quarantined = await policyRows.isQuarantined(release.id);
    const auto = policy.policy === 'auto' && policy.pinned === 0 && !quarantined;
    const id = newId('d', clock.now());
    await deployments.insertForRelease({
      id,
      release,
      status: auto ? 'approved' : 'awaiting_approval',
      actor: 'pipeline',
      at: now,
      ...(auto ? { approvedBy: 'policy:auto' } : {}),
    });
    const why =
      policy.policy === 'auto' && !auto
        ? policy.pinned === 1
          ? `auto is paused: the host is pinned (${policy.pin_reason ?? 'no reason given'})`
          : 'auto never deploys a release that was rolled back (quarantined)'
        : null;
    await log.note(
      id,
      now,
      auto ? 'approved by policy auto' : `waiting for approval${why ? `: ${why}` : ''}`,
    );
    await events.append([
      {
        at: now,
        kind: auto ? 'approval.auto' : 'approval.pending',
        actor: 'policy',
        hostName: release.host_name,
        deploymentId: id,
        data: { releaseId: release.id, why },
      },
    ]);
    if (!auto)
      await this.options.notify?.({
        kind: 'approval.pending',
        host: release.host_name,
        summary: `release ${release.id} for ${release.host_name} waits for approval (${release.sha.slice(0, 8)} ${release.message.split('\n')[0] ?? ''})`,
        data: { deploymentId: id, releaseId: release.id },
      });
    await this.tick();
  }

  /**
   * A host registered after the pipeline built its release (the flake knew it first):
   * its newest release goes through the policy now, as if it had just been built.
   */
  async onHostRegistered(host: string): Promise<void> {
    const latest = await this.options.releases.latestForHost(host);
    if (!latest || latest.status !== 'ready') return;
    await this.onReleaseReady(latest);
  }

  /** Looks at every approved deployment and queues those whose gates are open. */
  tick(): Promise<void> {
    this.ticking = this.ticking
      .then(() => this.passGates())
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'rollout gates failed'));
    return this.ticking;
  }

  private async passGates(): Promise<void> {
    const { deployments, runner, clock, log } = this.options;
    for (const deployment of await deployments.withStatus(['approved'])) {
      const hold = await this.holdReason(deployment);
      const now = clock.now().toISOString();
      if (hold?.cancel) {
        if (
          await deployments.transition(deployment.id, ['approved'], {
            status: 'cancelled',
            finished_at: now,
            error_message: hold.text,
            hold_reason: null,
          })
        ) {
          await log.note(deployment.id, now, `cancelled: ${hold.text}`);
        }
        continue;
      }
      if (hold) {
        if (hold.text !== deployment.hold_reason) {
          await deployments.transition(deployment.id, ['approved'], { hold_reason: hold.text });
          await log.note(deployment.id, now, `waiting: ${hold.text}`);
        }
        continue;
      }
      if (
        await deployments.transition(deployment.id, ['approved'], {
          status: 'queued',
          hold_reason: null,
        })
      ) {
        await runner.dispatchPending(deployment.host_name);
      }
    }
  }

  /** Why an approved deployment may not go yet; `cancel` when it never will. */
  private async holdReason(d: DeploymentRow): Promise<{ text: string; cancel?: boolean } | null> {
    const { deployments, policyRows, config, clock } = this.options;
    if (d.revision_id) {
      const halt = await policyRows.haltOf(d.revision_id);
      if (halt)
        return { text: `the rollout of this revision was halted: ${halt.reason}`, cancel: true };
      const wave = this.options.policies.waveOf(d.host_name);
      for (const earlier of config.rollout.waves.slice(0, wave?.index ?? 0)) {
        const wait = await this.waveWait(earlier, d.revision_id);
        if (wait) return { text: wait };
      }
    }
    const busy = await deployments.findActiveForHost(d.host_name, [
      'queued',
      'activating',
      'confirming',
    ]);
    if (busy.length > 0)
      return { text: `another deployment (${busy[0]?.id}) is running on the host` };
    const windows = this.windowsFor(d.host_name);
    if (d.override_window !== 1 && windows.length > 0 && !isWithinWindows(windows, clock.now())) {
      return { text: `outside the deploy window (${describeWindows(windows)})` };
    }
    return null;
  }

  /** Why a wave is not done with a revision yet (deploying or soaking), or null. */
  private async waveWait(
    wave: ControllerConfig['rollout']['waves'][number],
    revisionId: string,
  ): Promise<string | null> {
    const now = this.options.clock.now().getTime();
    const ofRevision = await this.options.deployments.forRevision(revisionId);
    for (const host of wave.hosts) {
      const latest = ofRevision.find((d) => d.host_name === host);
      if (!latest || ['rejected', 'superseded', 'cancelled', 'expired'].includes(latest.status))
        continue;
      if (UNFINISHED.includes(latest.status))
        return `wave ${wave.name} has not finished (${host}: ${latest.status})`;
      if (latest.status === 'succeeded' && latest.finished_at) {
        const until = Date.parse(latest.finished_at) + wave.soakSeconds * 1000;
        if (until > now)
          return `wave ${wave.name} is soaking until ${new Date(until).toISOString()}`;
      }
    }
    return null;
  }

  windowsFor(host: string): DeployWindow[] {
    const own = this.options.config.hosts[host]?.windows ?? [];
    const wave = this.options.policies.waveOf(host);
    const ofWave = wave ? (this.options.config.rollout.waves[wave.index]?.windows ?? []) : [];
    return [...own, ...ofWave];
  }

  /**
   * A deployment ended. Trouble restarts the host's stable period and demotes an `auto`
   * host; a rolled-back release is quarantined; trouble inside a wave halts the revision.
   */
  async onDeploymentFinished(row: DeploymentRow): Promise<void> {
    const { policyRows, policies, events, clock, notify } = this.options;
    if (TROUBLE.includes(row.status)) {
      const now = clock.now().toISOString();
      const reason = `deployment ${row.id} ${row.status.replace('_', ' ')}: ${row.error_message ?? 'no reason given'}`;
      await policies.onTrouble(row.host_name, reason, row.id);
      if (row.status === 'rolled_back' && row.release_id) {
        await policyRows.quarantine(row.release_id, row.host_name, reason, now);
        await events.append([
          {
            at: now,
            kind: 'release.quarantined',
            actor: 'policy',
            hostName: row.host_name,
            deploymentId: row.id,
            data: { releaseId: row.release_id, reason },
          },
        ]);
      }
      if (
        row.revision_id &&
        policies.waveOf(row.host_name) &&
        (await policyRows.halt(row.revision_id, reason, now))
      ) {
        await events.append([
          {
            at: now,
            kind: 'rollout.halted',
            actor: 'policy',
            hostName: row.host_name,
            deploymentId: row.id,
            data: { revisionId: row.revision_id, reason },
          },
        ]);
      }
      await notify?.({
        kind: row.status === 'failed' ? 'deployment.failed' : 'deployment.rolled_back',
        host: row.host_name,
        summary: reason,
        data: { deploymentId: row.id },
      });
    }
    await this.tick();
  }

  waves(): { waves: WaveStatus[] } {
    return {
      waves: this.options.config.rollout.waves.map((w) => ({
        name: w.name,
        hosts: w.hosts,
        soakSeconds: w.soakSeconds,
      })),
    };
  }

  /** Where a revision's rollout stands, wave by wave. */
  async rollout(revisionId: string): Promise<Rollout> {
    const { deployments, policyRows, config, clock } = this.options;
    const revision = await this.options.evaluations.revision(revisionId);
    if (!revision)
      throw new FlotillaError('revision_not_found', `no revision with id "${revisionId}"`);
    const halt = await policyRows.haltOf(revisionId);
    const ofRevision = await deployments.forRevision(revisionId);
    const now = clock.now().getTime();
    const waves: Rollout['waves'] = [];
    for (const wave of config.rollout.waves) {
      const hosts = wave.hosts.map((host) => {
        const latest = ofRevision.find((d) => d.host_name === host);
        return { host, deploymentId: latest?.id ?? null, status: latest?.status ?? null };
      });
      const finishedTimes = ofRevision
        .filter(
          (d) => wave.hosts.includes(d.host_name) && d.status === 'succeeded' && d.finished_at,
        )
        .map((d) => Date.parse(d.finished_at ?? ''));
      const soakUntil =
        finishedTimes.length > 0 ? Math.max(...finishedTimes) + wave.soakSeconds * 1000 : null;
      const statuses = hosts.map((h) => h.status).filter((s): s is string => s !== null);
      const state: Rollout['waves'][number]['state'] =
        statuses.some((s) => TROUBLE.includes(s)) || halt
          ? 'halted'
          : statuses.some((s) => UNFINISHED.includes(s))
            ? statuses.some((s) => ['queued', 'activating', 'confirming'].includes(s))
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
    return { revisionId, halted: halt !== undefined, haltReason: halt?.reason ?? null, waves };
  }

  /** What the branch declares, what was built, approved, executed, and whether it is verified. */
  async hostStatus(host: string): Promise<HostRollout> {
    const { deployments, releases, evaluations, hosts } = this.options;
    const view = await hosts.get(host);
    const latestRevision = await evaluations.latestEvaluatedBranch('default');
    const drvPath = parseEvaluation(latestRevision?.evaluation_json ?? null)?.nixos[host];
    const built = await releases.latestForHost(host);
    const approved = await deployments.latestForHost(host, [
      'approved',
      'queued',
      'activating',
      'confirming',
      'succeeded',
      'failed',
      'rolled_back',
    ]);
    const executed = await deployments.latestForHost(host, ['succeeded', 'failed', 'rolled_back']);
    const running = view.facts?.system.current ?? null;
    return {
      host,
      declared: latestRevision && drvPath ? { revisionId: latestRevision.id, drvPath } : null,
      built: built
        ? { releaseId: built.id, storePath: built.store_path, status: built.status }
        : null,
      approved: approved
        ? {
            deploymentId: approved.id,
            storePath: approved.store_path,
            by: approved.approved_by ?? approved.actor,
          }
        : null,
      executed: executed
        ? { deploymentId: executed.id, storePath: executed.store_path, status: executed.status }
        : null,
      verified:
        executed?.status === 'succeeded' &&
        running === executed.store_path &&
        view.status === 'online',
      running,
    };
  }
}
