import type { PendingApproval } from '@flotilla/protocol';

/** The hosts of one wave of a revision that wait for a decision. */
export interface WaveGroup {
  /** The wave's name; null for hosts in no wave. */
  wave: string | null;
  approvals: PendingApproval[];
}

/** A revision's pending releases, wave by wave, or a single store-path deployment. */
export interface RevisionGroup {
  /** Null for deployments of a store path, not of a revision. */
  revisionId: string | null;
  sha: string | null;
  commitMessage: string | null;
  halted: boolean;
  haltReason: string | null;
  waves: WaveGroup[];
}

/**
 * The inbox grouped by revision (newest first, by the newest waiting deployment) and, inside
 * one, by wave in the order `waveOrder` gives (the configured waves), hosts by name.
 */
export function groupApprovals(
  approvals: readonly PendingApproval[],
  waveOrder: readonly string[] = [],
): RevisionGroup[] {
  const byRevision = new Map<string, PendingApproval[]>();
  for (const approval of approvals) {
    const key = approval.revisionId ?? `deployment:${approval.deploymentId}`;
    byRevision.set(key, [...(byRevision.get(key) ?? []), approval]);
  }
  const rank = (wave: string | null) => {
    const index = wave === null ? -1 : waveOrder.indexOf(wave);
    return index === -1 ? waveOrder.length : index;
  };
  const groups = [...byRevision.values()].map((members): RevisionGroup & { newest: string } => {
    const first = members[0] as PendingApproval;
    const waves = new Map<string | null, PendingApproval[]>();
    for (const member of members)
      waves.set(member.wave, [...(waves.get(member.wave) ?? []), member]);
    return {
      revisionId: first.revisionId,
      sha: first.sha,
      commitMessage: first.commitMessage,
      halted: members.some((m) => m.halted),
      haltReason: members.find((m) => m.haltReason !== null)?.haltReason ?? null,
      newest:
        members
          .map((m) => m.createdAt)
          .sort()
          .at(-1) ?? '',
      waves: [...waves.entries()]
        .map(([wave, list]) => ({
          wave,
          approvals: [...list].sort((a, b) => a.host.localeCompare(b.host)),
        }))
        .sort((a, b) => rank(a.wave) - rank(b.wave) || (a.wave ?? '').localeCompare(b.wave ?? '')),
    };
  });
  return groups
    .sort((a, b) => b.newest.localeCompare(a.newest))
    .map(({ newest: _newest, ...group }) => group);
}

/** Whether a person can decide on this deployment now (held ones were decided already). */
export function isUndecided(approval: PendingApproval): boolean {
  return approval.status === 'awaiting_approval';
}
