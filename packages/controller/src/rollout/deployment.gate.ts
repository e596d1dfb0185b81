import {
  Facts,
  FlotillaError,
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  WAITING_DEPLOYMENT_STATUSES,
  type DeployAction,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { DeploymentTransitions } from '../deployments/deployment.transitions.js';
import { chooseRollbackTarget } from '../deployments/rollback-target.js';
import type { DeploymentRow, NewDeployment } from '../storage/deployment.repository.js';
import type { HostRow } from '../storage/host.repository.js';
import type { ReleaseView } from '../storage/release.repository.js';
import type { Store } from '../storage/store.js';
import { newId } from '../support/tokens.js';
import { pinHost } from './policy.writes.js';
import type { RolloutConfig } from './waves.js';

/** A person's deliberate choice to skip a wave, a closed window or a quarantine. */
export interface Force {
  reason: string;
}

/** Who decides, and how. */
export interface Intent {
  actor: string;
  comment?: string | null;
  force?: Force | null;
}

/** What a deploy request names. */
export type DeployTarget =
  { kind: 'release'; release: ReleaseView } | { kind: 'path'; storePath: string };

/** The deployment a decision produced, and what people should know about it. */
export interface GateResult {
  row: DeploymentRow;
  notes: string[];
}

export interface DeploymentGateOptions {
  transitions: DeploymentTransitions;
  config: RolloutConfig;
  clock: Clock;
  /** The facts a connected agent sent last (fresher than the stored ones); null offline. */
  liveFacts?: (host: string) => Facts | null;
}

/**
 * The one gate every deployment passes, however it starts: a release from the pipeline, a
 * human's approval, a human's `deploy`, a rollback. It applies the same rules to all of
 * them — monitor hosts refuse, a quarantined release needs `--force` with a reason, a
 * halted rollout refuses approvals until resumed, and a human's deploy counts as that
 * person's approval of the host's waiting deployment instead of adding a second one. What
 * happens after approval (waves, soak, windows, one deployment at a time) is decided for
 * all of them in one place, {@link RolloutService}'s gates. Every method works inside the
 * caller's transaction.
 */
export class DeploymentGate {
  constructor(private readonly options: DeploymentGateOptions) {}

  /**
   * A release became ready: it replaces what waited for an older one and waits for a human
   * on a `manual` host, or is approved by `auto` (unless the host is pinned or the release
   * quarantined; a halted rollout holds it after approval). Nothing happens for
   * unregistered or monitor hosts, nor for Macs.
   */
  async offerRelease(tx: Store, release: ReleaseView): Promise<DeploymentRow | null> {
    const host = await tx.hosts.findByName(release.host_name);
    if (!host || host.mode !== 'managed' || host.os === 'darwin') return null;
    const waiting = await this.waitingFor(tx, host.name);
    if (waiting?.release_id === release.id) return waiting;
    const inFlight = await tx.deployments.forHost(host.name, IN_FLIGHT_DEPLOYMENT_STATUSES);
    if (inFlight.some((d) => d.release_id === release.id)) return null;
    if (this.runningSystem(host) === release.store_path) {
      await tx.releases.markDeployed(release.id);
      return null;
    }
    if (waiting) await this.supersede(tx, waiting, `superseded by release ${release.id}`);
    const policy = await tx.policies.find(host.name);
    const quarantined = release.status === 'quarantined';
    // A halted rollout does not block auto here: the deployment is approved and then held by
    // the rollout's gates until the rollout is resumed, exactly like one approved before the
    // halt. Whether a release became ready before or after an earlier wave failed must not
    // decide whether resuming lets it go on.
    const autoBlocked =
      policy?.pinned === 1
        ? `auto is paused: the host is pinned (${policy.pin_reason ?? 'no reason given'})`
        : quarantined
          ? 'auto never deploys a release that was rolled back (quarantined)'
          : null;
    const auto = policy?.policy === 'auto' && autoBlocked === null;
    const now = this.now();
    const row = await this.options.transitions.create(
      tx,
      this.newRow({
        host: host.name,
        storePath: release.store_path,
        release,
        action: 'switch',
        kind: 'deploy',
        status: auto ? 'approved' : 'awaiting_approval',
        actor: 'pipeline',
        approvedBy: auto ? 'policy:auto' : null,
        at: now,
      }),
      {
        note: auto
          ? 'approved by policy auto'
          : `waiting for approval${policy?.policy === 'auto' && autoBlocked ? `: ${autoBlocked}` : ''}`,
        audit: {
          kind: auto ? 'approval.auto' : 'approval.pending',
          actor: 'policy',
          data: { releaseId: release.id, why: autoBlocked },
        },
        ...(auto
          ? {}
          : {
              notify: {
                kind: 'approval.pending',
                host: host.name,
                summary: `release ${release.id} for ${host.name} waits for approval (${release.sha.slice(0, 8)} ${release.message.split('\n')[0] ?? ''})`,
                data: { releaseId: release.id },
              },
            }),
      },
    );
    return row;
  }

  /** Approves a waiting deployment (again, to add `--force`); refused as {@link check} says. */
  async approve(tx: Store, row: DeploymentRow, intent: Intent): Promise<GateResult> {
    const host = await this.requireManaged(tx, row.host_name);
    const release = row.release_id ? await tx.releases.findById(row.release_id) : undefined;
    const notes = await this.check(tx, host, release, intent);
    if (!WAITING_DEPLOYMENT_STATUSES.includes(row.status)) {
      throw new FlotillaError(
        'approval_not_allowed',
        `deployment ${row.id} is ${row.status}, not waiting for approval`,
        { deploymentId: row.id, status: row.status },
      );
    }
    const rollback = release ? await this.isOlderThanRunning(tx, host, release) : false;
    if (rollback) notes.push(`this is a rollback: ${host.name} runs a newer release`);
    const now = this.now();
    const force = intent.force ?? null;
    const moved = await this.options.transitions.apply(tx, row, {
      to: 'approved',
      changes: {
        approved_by: intent.actor,
        approved_at: now,
        approval_comment: intent.comment ?? null,
        ...(force
          ? { override_window: 1, override_wave: 1, force_reason: force.reason }
          : row.status === 'approved'
            ? {}
            : { override_window: 0, override_wave: 0, force_reason: null }),
        ...(rollback ? { kind: 'rollback' as const } : {}),
      },
      note: [
        `approved by ${intent.actor}${intent.comment ? `: ${intent.comment}` : ''}`,
        ...(force ? [`forced (waves, windows and quarantine skipped): ${force.reason}`] : []),
        ...notes,
      ].join('; '),
      audit: {
        kind: 'approval.approved',
        actor: intent.actor,
        data: {
          releaseId: row.release_id,
          comment: intent.comment ?? null,
          rollback,
          forced: force !== null,
          forceReason: force?.reason ?? null,
        },
      },
    });
    if (!moved) throw changedMeanwhile(row);
    if (rollback) {
      await pinHost(tx, this.options.clock, host.name, intent.actor, {
        reason: `approved an older release (${row.release_id ?? row.store_path})`,
      });
    }
    return { row: moved, notes };
  }

  async reject(tx: Store, row: DeploymentRow, intent: Intent): Promise<GateResult> {
    if (!WAITING_DEPLOYMENT_STATUSES.includes(row.status)) {
      throw new FlotillaError(
        'approval_not_allowed',
        `deployment ${row.id} is ${row.status}, not waiting for approval`,
        { deploymentId: row.id, status: row.status },
      );
    }
    const now = this.now();
    const moved = await this.options.transitions.apply(tx, row, {
      to: 'rejected',
      changes: {
        finished_at: now,
        approved_by: intent.actor,
        approved_at: now,
        approval_comment: intent.comment ?? null,
        hold_reason: null,
      },
      note: `rejected by ${intent.actor}${intent.comment ? `: ${intent.comment}` : ''}`,
      audit: {
        kind: 'approval.rejected',
        actor: intent.actor,
        data: { releaseId: row.release_id, comment: intent.comment ?? null },
      },
    });
    if (!moved) throw changedMeanwhile(row);
    return { row: moved, notes: [] };
  }

  /**
   * A person asks to deploy a release or a store path: that is their approval. The host's
   * waiting deployment of the same target is approved instead of adding a second one; a
   * waiting deployment of something else is superseded by the new one.
   */
  async deploy(
    tx: Store,
    request: { host: string; target: DeployTarget; action: DeployAction },
    intent: Intent,
  ): Promise<GateResult> {
    const host = await this.requireManaged(tx, request.host);
    const { target } = request;
    const release = target.kind === 'release' ? target.release : undefined;
    const storePath = release ? release.store_path : (target as { storePath: string }).storePath;
    if (release) {
      if (release.host_name !== host.name) {
        throw new FlotillaError(
          'validation_failed',
          `release ${release.id} was built for host "${release.host_name}", not "${host.name}"`,
        );
      }
      if (release.status === 'publishing') {
        throw new FlotillaError(
          'validation_failed',
          `release ${release.id} is still being published to the cache`,
        );
      }
    }
    const sameTarget = (d: DeploymentRow) =>
      release ? d.release_id === release.id : d.store_path === storePath && d.release_id === null;
    const inFlight = await tx.deployments.forHost(host.name, IN_FLIGHT_DEPLOYMENT_STATUSES);
    const running = inFlight.find(sameTarget);
    if (running) {
      throw new FlotillaError(
        'deployment_in_progress',
        `host "${host.name}" is already being deployed ${release ? `release ${release.id}` : storePath} (deployment ${running.id}, ${running.status})`,
        { deploymentId: running.id },
      );
    }
    const waiting = await this.waitingFor(tx, host.name);
    if (waiting && sameTarget(waiting) && waiting.action === request.action) {
      const approved = await this.approve(tx, waiting, intent);
      approved.notes.unshift(`approved the deployment that waited for it (${waiting.id})`);
      return approved;
    }
    const notes = await this.check(tx, host, release, intent);
    const rollback = release ? await this.isOlderThanRunning(tx, host, release) : false;
    if (rollback) notes.push(`this is a rollback: ${host.name} runs a newer release`);
    const now = this.now();
    const noop =
      this.runningSystem(host) === storePath &&
      (request.action === 'switch' || request.action === 'test') &&
      inFlight.length === 0;
    if (waiting) {
      await this.supersede(tx, waiting, `superseded by a deployment ${intent.actor} requested`);
      notes.push(`replaced the waiting deployment ${waiting.id}`);
    }
    const row = await this.options.transitions.create(
      tx,
      this.newRow({
        host: host.name,
        storePath,
        release: release ?? null,
        action: request.action,
        kind: rollback ? 'rollback' : 'deploy',
        status: noop ? 'succeeded' : 'approved',
        actor: intent.actor,
        approvedBy: intent.actor,
        comment: intent.comment ?? null,
        force: intent.force ?? null,
        at: now,
        ...(noop ? { finishedAt: now, resultSystem: storePath } : {}),
      }),
      {
        note: noop
          ? `${storePath} is already running on ${host.name}: nothing to do`
          : [
              `requested by ${intent.actor}${intent.comment ? `: ${intent.comment}` : ''} (counts as approval)`,
              ...(intent.force ? [`forced: ${intent.force.reason}`] : []),
              ...notes,
            ].join('; '),
        audit: {
          kind: 'deployment.created',
          actor: intent.actor,
          data: {
            storePath,
            releaseId: release?.id ?? null,
            action: request.action,
            noop,
            forced: intent.force != null,
            forceReason: intent.force?.reason ?? null,
          },
        },
      },
    );
    if (rollback) {
      await pinHost(tx, this.options.clock, host.name, intent.actor, {
        reason: `deployed an older release (${release?.id ?? storePath})`,
      });
    }
    return { row, notes };
  }

  /**
   * Rolls a host back: by default to the system last verified on it before the current one
   * and not known to be bad, or to a named generation. A deployment like any other (it is
   * confirmed and can roll back itself), and it pins the host so `auto` leaves it there.
   */
  async rollback(
    tx: Store,
    hostName: string,
    request: { generation?: number | undefined },
    intent: Intent,
  ): Promise<GateResult> {
    const host = await this.requireManaged(tx, hostName, 'rolled back');
    const facts = this.options.liveFacts?.(hostName) ?? parseFacts(host);
    const generations = facts?.generations ?? [];
    const running = facts?.system.current ?? null;
    let target: { storePath: string; generation: number | null; why: string } | null;
    if (request.generation !== undefined) {
      const generation = generations.find((g) => g.number === request.generation);
      if (!generation) {
        const known = generations.map((g) => g.number).join(', ') || 'none reported';
        throw new FlotillaError(
          'validation_failed',
          `host "${hostName}" has no generation ${request.generation} (known: ${known})`,
        );
      }
      // Going back to what runs is still a change when the boot default moved on (a
      // deployment that needs a reboot); only the generation that is both is refused.
      if (generation.path === running && generation.current) {
        throw new FlotillaError(
          'validation_failed',
          `host "${hostName}" already runs generation ${generation.number}, and it is the boot default`,
        );
      }
      target = { storePath: generation.path, generation: generation.number, why: 'as asked' };
    } else {
      target = chooseRollbackTarget({
        running,
        generations,
        verified: await tx.deployments.succeededForHost(hostName, 200),
        bad: await this.badSystems(tx, hostName),
      });
      if (!target) {
        throw new FlotillaError(
          'validation_failed',
          `host "${hostName}" has no earlier system to roll back to that is not known to be bad (generations: ${generations.map((g) => g.number).join(', ') || 'none reported'})`,
        );
      }
    }
    const inFlight = await tx.deployments.forHost(hostName, IN_FLIGHT_DEPLOYMENT_STATUSES);
    const busy = inFlight[0];
    if (busy) {
      throw new FlotillaError(
        'deployment_in_progress',
        `host "${hostName}" has deployment ${busy.id} (${busy.status}); ${busy.status === 'queued' ? 'cancel it first (flotilla deployment cancel)' : 'wait until it ends: the host rolls back by itself if it fails'}`,
        { deploymentId: busy.id },
      );
    }
    const waiting = await this.waitingFor(tx, hostName);
    if (waiting)
      await this.supersede(tx, waiting, `superseded by a rollback ${intent.actor} requested`);
    const label = target.generation === null ? target.storePath : `generation ${target.generation}`;
    const note = `manual rollback to ${label} (${target.storePath}): ${target.why}`;
    const release = (await tx.releases.forStorePaths(hostName, [target.storePath]))[0] ?? null;
    const row = await this.options.transitions.create(
      tx,
      this.newRow({
        host: hostName,
        storePath: target.storePath,
        release,
        revisionless: true,
        action: 'switch',
        kind: 'rollback',
        status: 'approved',
        actor: intent.actor,
        approvedBy: intent.actor,
        comment: intent.comment ?? null,
        force: intent.force ?? null,
        at: this.now(),
      }),
      {
        note,
        audit: {
          kind: 'deployment.rollback_requested',
          actor: intent.actor,
          data: {
            storePath: target.storePath,
            generation: target.generation,
            why: target.why,
            forced: intent.force != null,
            forceReason: intent.force?.reason ?? null,
          },
        },
      },
    );
    await pinHost(tx, this.options.clock, hostName, intent.actor, {
      reason: `manual rollback to ${label} by ${intent.actor}`,
    });
    return { row, notes: [note] };
  }

  /**
   * Refusals that apply to every human decision, and notes for the person. A monitor host
   * was refused before this; a halted rollout and a quarantined release are refused here.
   */
  private async check(
    tx: Store,
    host: HostRow,
    release: ReleaseView | undefined,
    intent: Intent,
  ): Promise<string[]> {
    const notes: string[] = [];
    if (!release) return notes;
    const halt = await tx.policies.haltOf(release.revision_id);
    if (halt) {
      throw new FlotillaError(
        'rollout_halted',
        `the rollout of revision ${release.revision_id} is halted (${halt.reason}); resume it first: flotilla rollout resume ${release.revision_id} --reason "…"`,
        { revisionId: release.revision_id, reason: halt.reason },
      );
    }
    if (release.status === 'quarantined') {
      const quarantine = await tx.policies.quarantineOf(release.id);
      if (!intent.force) {
        throw new FlotillaError(
          'approval_not_allowed',
          `release ${release.id} is quarantined: it rolled back on ${host.name} (${quarantine?.reason ?? 'no reason recorded'}); deploy it anyway with --force --reason "…"`,
          { releaseId: release.id, quarantined: true },
        );
      }
      notes.push('this release was rolled back before (quarantined); forced');
    }
    const policy = await tx.policies.find(host.name);
    if (policy?.pinned === 1)
      notes.push(`${host.name} is pinned (${policy.pin_reason ?? 'no reason'}); the pin stays`);
    return notes;
  }

  /** Systems a rollback must not go to: left by a manual rollback, or quarantined. */
  private async badSystems(tx: Store, host: string): Promise<Set<string>> {
    const bad = new Set<string>();
    for (const rollback of await tx.deployments.rollbacksOfHost(host)) {
      if (rollback.previous_system) bad.add(rollback.previous_system);
    }
    for (const release of await tx.releases.list({ host, status: 'quarantined', limit: 500 }))
      bad.add(release.store_path);
    return bad;
  }

  private async requireManaged(tx: Store, name: string, what = 'deployed to'): Promise<HostRow> {
    const host = await tx.hosts.findByName(name);
    if (!host) throw new FlotillaError('host_not_found', `no host named "${name}"`);
    if (host.mode !== 'managed') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${name}" is monitor-only: Flotilla shows it but it is never ${what}`,
      );
    }
    // A Mac's agent only reports, whatever the registry says of the host.
    if (host.os === 'darwin') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${name}" runs macOS, which Flotilla only monitors: it is never ${what}`,
      );
    }
    return host;
  }

  private async waitingFor(tx: Store, host: string): Promise<DeploymentRow | undefined> {
    return (await tx.deployments.forHost(host, WAITING_DEPLOYMENT_STATUSES))[0];
  }

  private async supersede(tx: Store, row: DeploymentRow, why: string): Promise<void> {
    await this.options.transitions.apply(tx, row, {
      to: 'superseded',
      changes: { finished_at: this.now(), hold_reason: null },
      note: why,
    });
  }

  /** True when the host's last successful release is newer than `release`. */
  private async isOlderThanRunning(
    tx: Store,
    host: HostRow,
    release: ReleaseView,
  ): Promise<boolean> {
    const last = await tx.deployments.latestForHost(host.name, ['succeeded']);
    if (!last?.release_id || last.release_id === release.id) return false;
    const running = await tx.releases.findById(last.release_id);
    return running !== undefined && release.created_at < running.created_at;
  }

  private runningSystem(host: HostRow): string | null {
    return (this.options.liveFacts?.(host.name) ?? parseFacts(host))?.system.current ?? null;
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }

  private newRow(input: {
    host: string;
    storePath: string;
    release: ReleaseView | null;
    /** A rollback is not part of a revision's rollout, even when it lands on a release. */
    revisionless?: boolean;
    action: DeployAction;
    kind: 'deploy' | 'rollback';
    status: 'awaiting_approval' | 'approved' | 'succeeded';
    actor: string;
    approvedBy: string | null;
    comment?: string | null;
    force?: Force | null;
    at: string;
    finishedAt?: string;
    resultSystem?: string;
  }): NewDeployment {
    const force = input.force ?? null;
    return {
      id: newId('d', new Date(input.at)),
      host_name: input.host,
      store_path: input.storePath,
      release_id: input.release?.id ?? null,
      revision_id: input.revisionless ? null : (input.release?.revision_id ?? null),
      action: input.action,
      kind: input.kind,
      status: input.status,
      phase: null,
      actor: input.actor,
      created_at: input.at,
      started_at: input.finishedAt ?? null,
      finished_at: input.finishedAt ?? null,
      exit_code: null,
      error_code: null,
      error_message: null,
      result_system: input.resultSystem ?? null,
      approved_by: input.approvedBy,
      approved_at: input.approvedBy ? input.at : null,
      approval_comment: input.comment ?? null,
      override_window: force ? 1 : 0,
      override_wave: force ? 1 : 0,
      force_reason: force?.reason ?? null,
      hold_reason: null,
    };
  }
}

/** The facts stored for a host; null when none or unreadable. */
export function parseFacts(host: HostRow): Facts | null {
  if (host.facts_json === null) return null;
  try {
    const parsed = Facts.safeParse(JSON.parse(host.facts_json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function changedMeanwhile(row: DeploymentRow): FlotillaError {
  return new FlotillaError(
    'approval_not_allowed',
    `deployment ${row.id} changed while the decision was being made; nothing was decided, look at it again`,
    { deploymentId: row.id },
  );
}
