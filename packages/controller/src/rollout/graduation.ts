import type { GraduationStatus } from '@flotilla/protocol';
import type { GraduationCriteria } from '../config.js';

const DAY_MS = 86_400_000;

/** What graduation reads about a host. */
export interface GraduationInput {
  host: string;
  policy: 'manual' | 'auto' | 'monitor';
  pinned: boolean;
  stableSince: string | null;
}

/**
 * Whether a host has earned `auto`: it is on `manual`, not pinned, has criteria, has been
 * stable (no failed deployment or rollback) for the days required, and the hosts it
 * follows are on `auto` already. Pure: the same answer for the API, the promotion check and
 * the watcher that tells people.
 */
export function graduationOf(
  input: GraduationInput,
  criteria: GraduationCriteria | null,
  policyOf: (host: string) => GraduationInput['policy'] | undefined,
  now: Date,
): GraduationStatus {
  const stableDays = input.stableSince
    ? (now.getTime() - Date.parse(input.stableSince)) / DAY_MS
    : null;
  const requiredDays = criteria?.stableDays ?? null;
  const after = criteria?.after ?? [];
  const reasons: string[] = [];
  if (input.policy !== 'manual') reasons.push(`policy is ${input.policy}, not manual`);
  if (input.pinned) reasons.push('pinned');
  if (!criteria) reasons.push('no graduation criteria configured');
  if (requiredDays !== null && (stableDays ?? 0) < requiredDays) {
    reasons.push(`stable ${(stableDays ?? 0).toFixed(1)} of ${requiredDays} days`);
  }
  for (const other of after) {
    if (policyOf(other) !== 'auto') reasons.push(`${other} is not on auto yet`);
  }
  return {
    host: input.host,
    policy: input.policy,
    stableSince: input.stableSince,
    stableDays: stableDays === null ? null : Math.floor(stableDays * 10) / 10,
    requiredDays,
    after,
    eligible: reasons.length === 0,
    reasons,
  };
}
