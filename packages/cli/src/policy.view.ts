import type {
  GraduationList,
  GraduationStatus,
  HostPolicy,
  HostPolicyList,
  Policy,
} from '@flotilla/protocol';
import { keyValues, table, type TimeFormat } from './format.js';

/** What each policy does to a new release, in words. */
export const POLICY_MEANING: Readonly<Record<Policy, string>> = {
  manual: 'each release waits for approval',
  auto: 'releases deploy once built',
  monitor: 'never deployed, only watched',
};

/** The SOURCE column: where the policy comes from, and whether the API may change it. */
export function sourceLabel(policy: HostPolicy): string {
  return policy.locked ? `${policy.source} (locked)` : policy.source;
}

function pinLabel(policy: HostPolicy): string {
  if (!policy.pinned) return 'no';
  return policy.pinReason === null ? 'yes' : `yes: ${policy.pinReason}`;
}

function stableLabel(stableSince: string | null, time: TimeFormat): string {
  return stableSince === null ? '-' : time.relative(stableSince);
}

/** Every host's policy; locked ones are explained under the table. */
export function renderPolicyTable(list: HostPolicyList, time: TimeFormat): string {
  if (list.policies.length === 0) return 'no hosts';
  const rows = list.policies.map((p) => [
    p.host,
    p.policy,
    sourceLabel(p),
    p.wave ?? '-',
    stableLabel(p.stableSince, time),
    pinLabel(p),
  ]);
  const lines = [
    table(['HOST', 'POLICY', 'SOURCE', 'WAVE', 'STABLE SINCE', 'PINNED'], rows),
    '',
    'Change with: flotilla policy HOST manual|auto|monitor',
  ];
  if (list.policies.some((p) => p.locked)) {
    lines.push("Locked policies are set in the controller's config file; change them there.");
  }
  return lines.join('\n');
}

/** One host's policy in detail. */
export function renderPolicyDetail(policy: HostPolicy, time: TimeFormat): string {
  return keyValues([
    ['Host', policy.host],
    ['Policy', `${policy.policy} (${POLICY_MEANING[policy.policy]})`],
    ['Source', policy.locked ? `${policy.source} (locked: change it there)` : policy.source],
    ['Wave', policy.wave ?? '-'],
    ['Stable since', time.stamp(policy.stableSince)],
    ['Pinned', pinLabel(policy)],
    ['Updated', `${time.dateTime(policy.updatedAt)} by ${policy.updatedBy}`],
  ]);
}

/** What a pin does, with the way out. */
function pinEffect(host: string): string {
  return `auto is paused and releases wait for approval until flotilla unpin ${host}`;
}

/** A pin overrides `auto`, so a pinned host says so whatever else changed. */
function pinNote(policy: HostPolicy): string[] {
  return policy.pinned ? [`${policy.host} is pinned: ${pinEffect(policy.host)}`] : [];
}

/** The answer to `flotilla policy HOST POLICY`. */
export function renderPolicySet(policy: HostPolicy): string {
  return [
    `${policy.host}: policy ${policy.policy} (${POLICY_MEANING[policy.policy]})`,
    ...pinNote(policy),
  ].join('\n');
}

/** The answer to `flotilla pin` and `flotilla unpin`. */
export function renderPinChange(policy: HostPolicy): string {
  if (policy.pinned) {
    const reason = policy.pinReason === null ? '' : ` (${policy.pinReason})`;
    return `${policy.host} pinned${reason}: ${pinEffect(policy.host)}`;
  }
  return `${policy.host} unpinned; policy ${policy.policy} applies again (${POLICY_MEANING[policy.policy]})`;
}

function days(value: number | null): string {
  // Whole days, rounded down: "6" of a required 7 must not read as done.
  return value === null ? '-' : String(Math.floor(value));
}

/** `gpc0`, or `gpc0+14d` when it must have run on auto 14 days. */
function prerequisiteLabel(prerequisite: GraduationStatus['after'][number]): string {
  return prerequisite.requiredDays === null
    ? prerequisite.host
    : `${prerequisite.host}+${prerequisite.requiredDays}d`;
}

function graduationRow(host: GraduationStatus): string[] {
  return [
    host.host,
    host.policy,
    days(host.stableDays),
    days(host.requiredDays),
    host.after.length === 0 ? '-' : host.after.map(prerequisiteLabel).join(','),
    host.eligible ? 'yes' : 'no',
    host.reasons.length === 0 ? '-' : host.reasons.join('; '),
  ];
}

/** Which hosts could move to `auto`, with the commands that would do it. */
export function renderGraduation(list: GraduationList): string {
  if (list.hosts.length === 0) return 'no hosts';
  const headers = ['HOST', 'POLICY', 'STABLE', 'NEEDS', 'AFTER', 'ELIGIBLE', 'WHY NOT'];
  const align = ['left', 'left', 'right', 'right'] as const;
  const lines = [table(headers, list.hosts.map(graduationRow), align), ''];
  const ready = list.hosts.filter((h) => h.eligible && h.policy !== 'auto');
  if (ready.length === 0) lines.push('No host is ready for auto yet. STABLE and NEEDS are days.');
  else {
    lines.push('STABLE and NEEDS are days. Ready for auto:');
    lines.push(...ready.map((h) => `  flotilla policy ${h.host} auto`));
  }
  return lines.join('\n');
}
