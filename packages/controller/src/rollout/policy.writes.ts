import type { Clock } from '@flotilla/runtime';
import type { Notifier } from '../notifications/notification.service.js';
import type { HostPolicyRow } from '../storage/policy.repository.js';
import type { Store } from '../storage/store.js';

/**
 * The writes the rules make to policies, pins, quarantine and halts, each with its audit
 * entry, always inside the caller's transaction (so a deployment's end and the demotion,
 * quarantine or halt it causes commit together).
 */

/** The host's policy row, created as `manual` when missing (it is made at registration). */
export async function policyRow(tx: Store, clock: Clock, host: string): Promise<HostPolicyRow> {
  const existing = await tx.policies.find(host);
  if (existing) return existing;
  const now = clock.now().toISOString();
  await tx.policies.ensure({
    host_name: host,
    policy: 'manual',
    source: 'default',
    stable_since: now,
    updated_at: now,
    updated_by: 'default',
  });
  const created = await tx.policies.find(host);
  if (!created) throw new Error(`policy row for ${host} vanished`);
  return created;
}

/** Pins a host: `auto` stops moving it forward until someone unpins it. */
export async function pinHost(
  tx: Store,
  clock: Clock,
  host: string,
  actor: string,
  pin: { reason: string },
): Promise<void> {
  await policyRow(tx, clock, host);
  await tx.policies.update(host, { pinned: 1, pin_reason: pin.reason });
  await tx.events.append([
    {
      at: clock.now().toISOString(),
      kind: 'host.pinned',
      actor,
      hostName: host,
      data: { reason: pin.reason },
    },
  ]);
}

export async function unpinHost(
  tx: Store,
  clock: Clock,
  host: string,
  actor: string,
  reason: string | null,
): Promise<void> {
  await policyRow(tx, clock, host);
  await tx.policies.update(host, { pinned: 0, pin_reason: null });
  await tx.events.append([
    {
      at: clock.now().toISOString(),
      kind: 'host.unpinned',
      actor,
      hostName: host,
      data: { reason },
    },
  ]);
}

/**
 * A failed deployment or a rollback restarts the host's stable period, and an `auto` host
 * goes back to `manual`, with the reason recorded and people told.
 */
export async function recordTrouble(
  tx: Store,
  clock: Clock,
  notifier: Notifier,
  trouble: { host: string; reason: string; deploymentId: string },
): Promise<void> {
  const row = await policyRow(tx, clock, trouble.host);
  const now = clock.now().toISOString();
  await tx.policies.update(trouble.host, { stable_since: now, eligible_notified_at: null });
  if (row.policy !== 'auto') return;
  await tx.policies.update(trouble.host, {
    policy: 'manual',
    source: row.source === 'config' ? 'demoted' : 'api',
    updated_at: now,
    updated_by: 'policy',
  });
  await tx.events.append([
    {
      at: now,
      kind: 'host.demoted',
      actor: 'policy',
      hostName: trouble.host,
      deploymentId: trouble.deploymentId,
      data: { from: 'auto', to: 'manual', reason: trouble.reason },
    },
  ]);
  await notifier.queue(tx, {
    kind: 'host.demoted',
    host: trouble.host,
    summary: `${trouble.host} was demoted to manual: ${trouble.reason}`,
    data: { deploymentId: trouble.deploymentId },
  });
}

/** A release that rolled back is quarantined: `auto` never deploys it again. */
export async function quarantineRelease(
  tx: Store,
  clock: Clock,
  quarantine: { releaseId: string; host: string; reason: string; deploymentId: string },
): Promise<void> {
  const now = clock.now().toISOString();
  await tx.policies.quarantine(quarantine.releaseId, quarantine.host, quarantine.reason, now);
  await tx.releases.setStatus(quarantine.releaseId, 'quarantined');
  await tx.events.append([
    {
      at: now,
      kind: 'release.quarantined',
      actor: 'policy',
      hostName: quarantine.host,
      deploymentId: quarantine.deploymentId,
      data: { releaseId: quarantine.releaseId, reason: quarantine.reason },
    },
  ]);
}

/** Halts a revision's rollout (once): nothing more of it is queued until it is resumed. */
export async function haltRollout(
  tx: Store,
  clock: Clock,
  notifier: Notifier,
  halt: { revisionId: string; reason: string; host: string; deploymentId: string },
): Promise<boolean> {
  const now = clock.now().toISOString();
  if (!(await tx.policies.halt(halt.revisionId, halt.reason, now))) return false;
  await tx.events.append([
    {
      at: now,
      kind: 'rollout.halted',
      actor: 'policy',
      hostName: halt.host,
      deploymentId: halt.deploymentId,
      data: { revisionId: halt.revisionId, reason: halt.reason },
    },
  ]);
  await notifier.queue(tx, {
    kind: 'rollout.halted',
    host: halt.host,
    summary: `the rollout of revision ${halt.revisionId} was halted: ${halt.reason}`,
    data: { revisionId: halt.revisionId, deploymentId: halt.deploymentId },
  });
  return true;
}
