import type { Host, OverviewHost } from '@flotilla/protocol';
import { attentionOf } from './host-attention.js';

/** How a host's running revision compares with the branch head, in words and a tone. */
export interface SyncLabel {
  text: string;
  tone: 'ok' | 'warn' | 'bad' | 'muted';
}

export function syncLabel(host: Host): SyncLabel {
  const sync = host.sync;
  switch (sync?.state) {
    case 'up_to_date':
      return { text: 'up to date', tone: 'ok' };
    case 'behind':
      return {
        text:
          sync.behindBy === null
            ? 'behind'
            : `behind by ${sync.behindBy} commit${sync.behindBy === 1 ? '' : 's'}`,
        tone: 'warn',
      };
    case 'drifted':
      return { text: 'drifted', tone: 'bad' };
    case 'unknown':
    case undefined:
      return { text: 'unknown', tone: 'muted' };
  }
}

export type StatusFilter = 'all' | 'online' | 'offline';
export type ModeFilter = 'all' | 'managed' | 'monitor';
export type SortKey = 'name' | 'status' | 'lastSeen' | 'sync' | 'load';

export interface OverviewFilter {
  search: string;
  status: StatusFilter;
  mode: ModeFilter;
  /** Only hosts with a reason in {@link attentionOf}, a waiting approval or a failed last deployment. */
  attention: boolean;
  sort: SortKey;
}

export const DEFAULT_FILTER: OverviewFilter = {
  search: '',
  status: 'all',
  mode: 'all',
  attention: false,
  sort: 'name',
};

/** Reads the filter from the page's query string (so a filtered view can be linked). */
export function filterFromSearch(search: URLSearchParams): OverviewFilter {
  const pick = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = search.get(name);
    return allowed.includes(value as T) ? (value as T) : fallback;
  };
  return {
    search: search.get('q') ?? '',
    status: pick('status', ['all', 'online', 'offline'], 'all'),
    mode: pick('mode', ['all', 'managed', 'monitor'], 'all'),
    attention: search.get('attention') === '1',
    sort: pick('sort', ['name', 'status', 'lastSeen', 'sync', 'load'], 'name'),
  };
}

/** Whether the host needs a person: the header's reasons, a waiting approval, a failed deployment. */
export function needsAttention(entry: OverviewHost): boolean {
  return (
    attentionOf(entry.host).length > 0 ||
    entry.pendingApprovals.length > 0 ||
    entry.lastDeployment?.status === 'failed' ||
    entry.lastDeployment?.status === 'rolled_back'
  );
}

const SYNC_ORDER = { drifted: 0, behind: 1, unknown: 2, up_to_date: 3 } as const;
const STATUS_ORDER = { offline: 0, never_seen: 1, online: 2 } as const;

/** The hosts the filter keeps, in its order (ties by name). */
export function applyFilter(
  hosts: readonly OverviewHost[],
  filter: OverviewFilter,
): OverviewHost[] {
  const needle = filter.search.trim().toLowerCase();
  const kept = hosts.filter((entry) => {
    const { host } = entry;
    if (needle !== '' && !searchText(entry).includes(needle)) return false;
    if (filter.status === 'online' && host.status !== 'online') return false;
    if (filter.status === 'offline' && host.status === 'online') return false;
    if (filter.mode !== 'all' && host.mode !== filter.mode) return false;
    if (filter.attention && !needsAttention(entry)) return false;
    return true;
  });
  const byName = (a: OverviewHost, b: OverviewHost) => a.host.name.localeCompare(b.host.name);
  const compare = comparator(filter.sort);
  return kept.sort((a, b) => compare(a, b) || byName(a, b));
}

function comparator(sort: SortKey): (a: OverviewHost, b: OverviewHost) => number {
  switch (sort) {
    case 'name':
      return () => 0;
    case 'status':
      return (a, b) => STATUS_ORDER[a.host.status] - STATUS_ORDER[b.host.status];
    case 'lastSeen':
      // Longest unseen first: who has been away the longest.
      return (a, b) => (a.host.lastSeenAt ?? '').localeCompare(b.host.lastSeenAt ?? '');
    case 'sync':
      return (a, b) =>
        SYNC_ORDER[a.host.sync?.state ?? 'unknown'] - SYNC_ORDER[b.host.sync?.state ?? 'unknown'];
    case 'load':
      return (a, b) => (b.host.metrics?.load[0] ?? -1) - (a.host.metrics?.load[0] ?? -1);
  }
}

function searchText(entry: OverviewHost): string {
  const { host } = entry;
  return [
    host.name,
    host.facts?.osRelease?.prettyName,
    host.facts?.nixosVersion,
    entry.wave,
    entry.policy,
    host.mode,
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

/** Counts for the summary line above the list. */
export function countsOf(hosts: readonly OverviewHost[]) {
  return {
    total: hosts.length,
    online: hosts.filter((h) => h.host.status === 'online').length,
    managed: hosts.filter((h) => h.host.mode === 'managed').length,
    monitor: hosts.filter((h) => h.host.mode === 'monitor').length,
    waiting: hosts.reduce((n, h) => n + h.pendingApprovals.length, 0),
    attention: hosts.filter(needsAttention).length,
  };
}

/** Fraction of memory in use, 0..1; null without metrics. */
export function memoryUsed(host: Host): number | null {
  const memory = host.metrics?.memory;
  if (!memory || memory.totalBytes === 0) return null;
  return Math.min(1, Math.max(0, 1 - memory.availableBytes / memory.totalBytes));
}

/** Fraction of the fullest disk in use, 0..1, and its mount; null without metrics. */
export function fullestDisk(host: Host): { mount: string; used: number } | null {
  let fullest: { mount: string; used: number } | null = null;
  for (const disk of host.metrics?.disks ?? []) {
    if (disk.totalBytes === 0) continue;
    const used = 1 - disk.freeBytes / disk.totalBytes;
    if (fullest === null || used > fullest.used) fullest = { mount: disk.mount, used };
  }
  return fullest;
}

/** The waiting approvals of the chosen hosts, grouped by revision (one all-or-nothing decision each). */
export function approvalsByRevision(
  hosts: readonly OverviewHost[],
): { revisionId: string | null; hosts: string[]; deploymentIds: string[] }[] {
  const groups = new Map<
    string,
    { revisionId: string | null; hosts: string[]; deploymentIds: string[] }
  >();
  for (const entry of hosts) {
    for (const approval of entry.pendingApprovals) {
      const key = approval.revisionId ?? `deployment:${approval.deploymentId}`;
      const group = groups.get(key) ?? {
        revisionId: approval.revisionId,
        hosts: [],
        deploymentIds: [],
      };
      if (!group.hosts.includes(entry.host.name)) group.hosts.push(entry.host.name);
      group.deploymentIds.push(approval.deploymentId);
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}
