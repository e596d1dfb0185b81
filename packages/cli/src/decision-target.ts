import { UsageError } from './errors.js';

/** What `approve`/`reject` act on, told apart by the id's prefix. */
export interface DecisionTarget {
  /** A revision means every deployment of it that waits (bulk). */
  kind: 'deployment' | 'release' | 'revision';
  id: string;
}

/**
 * Reads a TARGET by the controller's id prefixes: `d…` a deployment, `rv…` a revision, `r…` a
 * release (ids are lowercase base 36). `rv` is tested first: a release id is `r` followed by a
 * base-36 millisecond clock, which starts with `m` or `n` for years to come (it reaches `v` only
 * in 2046), so the two do not collide. Throws UsageError for anything else, before any request.
 */
export function parseDecisionTarget(target: string): DecisionTarget {
  const kind = targetKind(target);
  if (kind !== undefined) return { kind, id: target };
  throw new UsageError(
    `TARGET must be a deployment id (d…), a release id (r…) or a revision id (rv…), got "${target}"`,
  );
}

function targetKind(target: string): DecisionTarget['kind'] | undefined {
  if (!/^[0-9a-z]{2,}$/.test(target) || target === 'rv') return undefined;
  if (target.startsWith('rv')) return 'revision';
  if (target.startsWith('r')) return 'release';
  if (target.startsWith('d')) return 'deployment';
  return undefined;
}

/** The request field naming the target, as `DecisionRequest` takes it. */
export function targetFields(
  target: DecisionTarget,
): { deploymentId: string } | { releaseId: string } | { revisionId: string } {
  switch (target.kind) {
    case 'deployment':
      return { deploymentId: target.id };
    case 'release':
      return { releaseId: target.id };
    case 'revision':
      return { revisionId: target.id };
  }
}
