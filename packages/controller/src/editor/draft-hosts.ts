import type { DraftHostCheck, Evaluation, HostEvaluationError } from '@flotilla/protocol';
import { parseNixError } from '../adapters/nix-error.js';

/** What an evaluation says about hosts: derivations, and errors with their details. */
export type HostsEvaluation = Pick<Evaluation, 'nixos' | 'hostErrors' | 'hostErrorDetails'>;

/**
 * Each host with the draft against the branch head: `unchanged` when its system
 * derivation is the same, `rebuild` when it differs (or the head did not evaluate it),
 * `added`/`removed` when only one side has the host, `error` when the draft's evaluation of
 * it fails (`failsAtHead` says whether it failed at the head already). `head` is null when
 * the head's flake does not evaluate at all. Sorted by host.
 */
export function compareHosts(
  head: HostsEvaluation | null,
  draft: HostsEvaluation,
): DraftHostCheck[] {
  const hosts = new Set([
    ...Object.keys(draft.nixos),
    ...Object.keys(draft.hostErrors),
    ...Object.keys(head?.nixos ?? {}),
    ...Object.keys(head?.hostErrors ?? {}),
  ]);
  return [...hosts].sort().map((host): DraftHostCheck => {
    const headDrvPath = head?.nixos[host] ?? null;
    const atHead = head === null || host in head.nixos || host in head.hostErrors;
    const failsAtHead = head !== null && host in head.hostErrors;
    const draftDrvPath = draft.nixos[host] ?? null;
    const base = { host, headDrvPath, draftDrvPath, failsAtHead };
    if (host in draft.hostErrors) {
      return { ...base, status: 'error', error: errorOf(draft, host) };
    }
    if (draftDrvPath === null) return { ...base, status: 'removed', error: null };
    if (!atHead) return { ...base, status: 'added', error: null };
    const status = draftDrvPath === headDrvPath ? 'unchanged' : 'rebuild';
    return { ...base, status, error: null };
  });
}

/**
 * Whether the hosts allow a commit: no host fails that evaluated at the head (a host
 * already broken on the branch does not hold up a fix elsewhere).
 */
export function hostsAllowCommit(hosts: readonly DraftHostCheck[]): boolean {
  return hosts.every((host) => host.status !== 'error' || host.failsAtHead);
}

/** One line for people, e.g. "rebuilds 2 of 6 hosts; 1 error (gamma)". */
export function hostsSummary(hosts: readonly DraftHostCheck[]): string {
  const count = (status: DraftHostCheck['status']) => hosts.filter((h) => h.status === status);
  const rebuilds = [...count('rebuild'), ...count('added')];
  const parts = [`rebuilds ${rebuilds.length} of ${hosts.length} hosts`];
  const errors = count('error');
  if (errors.length > 0) {
    parts.push(
      `${errors.length} error${errors.length === 1 ? '' : 's'} (${errors.map((h) => h.host).join(', ')})`,
    );
  }
  const removed = count('removed');
  if (removed.length > 0) parts.push(`removes ${removed.map((h) => h.host).join(', ')}`);
  return parts.join('; ');
}

function errorOf(evaluation: HostsEvaluation, host: string): HostEvaluationError {
  return evaluation.hostErrorDetails?.[host] ?? parseNixError(evaluation.hostErrors[host] ?? '');
}
