import type { GraduationPrerequisiteStatus, GraduationStatus } from '@flotilla/protocol';
import { prerequisiteHost, type GraduationCriteria } from '../config.js';

const DAY_MS = 86_400_000;

/** What graduation reads about a host. */
export interface GraduationInput {
  host: string;
  policy: 'manual' | 'auto' | 'monitor';
  pinned: boolean;
  /** Since its last failed deployment or rollback (or its registration). */
  stableSince: string | null;
  /** When its policy last changed: for a host on `auto`, when it went on `auto`. */
  policySince: string;
}

/**
 * Whether a host has earned `auto`: it is on `manual`, not pinned, has criteria, has been
 * stable (no failed deployment or rollback) for the days required, and the hosts it
 * follows are on `auto` already, each stable there for the days asked of it. Pure: the
 * same answer for the API, the promotion check and the watcher that tells people.
 */
export function graduationOf(
  input: GraduationInput,
  criteria: GraduationCriteria | null,
  hostOf: (host: string) => GraduationInput | undefined,
  now: Date,
): GraduationStatus {
  const stableDays = input.stableSince ? daysSince(input.stableSince, now) : null;
  const requiredDays = criteria?.stableDays ?? null;
  const reasons: string[] = [];
  if (input.policy !== 'manual') reasons.push(`policy is ${input.policy}, not manual`);
  if (input.pinned) reasons.push('pinned');
  if (!criteria) reasons.push('no graduation criteria configured');
  if (requiredDays !== null && (stableDays ?? 0) < requiredDays) {
    reasons.push(`stable ${(stableDays ?? 0).toFixed(1)} of ${requiredDays} days`);
  }
  const after = (criteria?.after ?? []).map((entry): GraduationPrerequisiteStatus => {
    const host = prerequisiteHost(entry);
    const required = typeof entry === 'string' ? null : entry.stableDays;
    const other = hostOf(host);
    if (other?.policy !== 'auto') {
      reasons.push(other ? `${host} is not on auto yet` : `${host} is not registered yet`);
      return { host, requiredDays: required, stableDays: null, met: false };
    }
    const days = stableOnAuto(other, now);
    const met = required === null || days >= required;
    if (!met) reasons.push(`${host} stable on auto ${days.toFixed(1)} of ${required} days`);
    return { host, requiredDays: required, stableDays: roundDown(days), met };
  });
  return {
    host: input.host,
    policy: input.policy,
    stableSince: input.stableSince,
    stableDays: stableDays === null ? null : roundDown(stableDays),
    requiredDays,
    after,
    eligible: reasons.length === 0,
    reasons,
  };
}

/**
 * Days a host on `auto` has run there without trouble: since the later of going on `auto`
 * and its last failed deployment or rollback (a rollback on `auto` demotes it, so going back
 * on `auto` restarts the count anyway).
 */
function stableOnAuto(host: GraduationInput, now: Date): number {
  const trouble = host.stableSince === null ? -Infinity : Date.parse(host.stableSince);
  return Math.max(0, (now.getTime() - Math.max(Date.parse(host.policySince), trouble)) / DAY_MS);
}

function daysSince(iso: string, now: Date): number {
  return (now.getTime() - Date.parse(iso)) / DAY_MS;
}

/** Tenths, rounded down: 13.96 of a required 14 must not read as 14. */
function roundDown(days: number): number {
  return Math.floor(days * 10) / 10;
}
