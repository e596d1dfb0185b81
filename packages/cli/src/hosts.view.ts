import type { CreateHostResponse, Generation, Host, HostList, Metrics } from '@flotilla/protocol';
import {
  formatBytes,
  formatDuration,
  formatPercent,
  keyValues,
  shortStorePath,
  table,
  type TimeFormat,
} from './format.js';

/** The agent column: its version, flagged when older than the controller. */
export function agentLabel(host: Host): string {
  if (host.agentVersion === null) return '-';
  return host.agentOutdated ? `${host.agentVersion} (outdated)` : host.agentVersion;
}

/** Host counts as a sentence: "12 hosts: 9 online, 2 offline, 1 never seen". */
export function hostCountsLine(counts: HostList['counts']): string {
  const parts = [
    [counts.online, 'online'],
    [counts.offline, 'offline'],
    [counts.neverSeen, 'never seen'],
  ] as const;
  const detail = parts.filter(([count]) => count > 0).map(([count, label]) => `${count} ${label}`);
  const noun = counts.total === 1 ? 'host' : 'hosts';
  return detail.length > 0
    ? `${counts.total} ${noun}: ${detail.join(', ')}`
    : `${counts.total} ${noun}`;
}

/**
 * The hosts table with a footer of counts. `filtered` says the list was narrowed by status, in
 * which case the counts (always over all hosts) are told apart from the rows shown.
 */
export function renderHostTable(list: HostList, time: TimeFormat, filtered: boolean): string {
  if (list.hosts.length === 0) {
    return filtered
      ? `no hosts match (${hostCountsLine(list.counts)})`
      : 'no hosts registered yet; add one with: flotilla host add NAME';
  }
  const rows = list.hosts.map((host) => [
    host.name,
    host.mode,
    host.status,
    agentLabel(host),
    revisionLabel(host),
    syncLabel(host),
    time.relative(host.lastSeenAt),
  ]);
  const headers = ['NAME', 'MODE', 'STATUS', 'AGENT', 'RUNNING', 'BRANCH', 'LAST SEEN'];
  const footer = filtered
    ? `${list.hosts.length} shown; ${hostCountsLine(list.counts)}`
    : hostCountsLine(list.counts);
  return `${table(headers, rows)}\n\n${footer}`;
}

/** What a host runs: the commit of its running release, else the store path. */
export function revisionLabel(host: Host): string {
  const sha = host.sync?.runningSha ?? null;
  if (sha !== null) return sha.slice(0, 8);
  return shortStorePath(host.facts?.system.current ?? null);
}

/** The running system against the branch: up to date, behind by N, drifted, or "-". */
export function syncLabel(host: Host): string {
  if (host.mode === 'monitor') return 'monitor-only';
  const sync = host.sync;
  if (!sync) return '-';
  switch (sync.state) {
    case 'up_to_date':
      return 'up to date';
    case 'behind':
      return sync.behindBy === null
        ? 'behind'
        : `behind by ${sync.behindBy} commit${sync.behindBy === 1 ? '' : 's'}`;
    case 'drifted':
      return 'drifted';
    case 'unknown':
      return 'unknown';
  }
}

/** Everything known about one host, facts and latest metrics included. */
export function renderHostDetail(host: Host, time: TimeFormat): string {
  const status =
    host.status === 'online' && host.connectedAt !== null
      ? `online (connected ${time.relative(host.connectedAt)})`
      : host.status;
  const agent =
    host.protocolVersion === null
      ? agentLabel(host)
      : `${agentLabel(host)}, protocol ${host.protocolVersion}`;
  const sections = [
    keyValues([
      ['Name', host.name],
      ['Mode', host.mode],
      ['OS', host.os ?? '-'],
      ['Status', status],
      ['Running', `${revisionLabel(host)} (${syncLabel(host)})`],
      ['Agent', agent],
      ['Last seen', time.stamp(host.lastSeenAt, 'never')],
      ['Registered', time.stamp(host.createdAt)],
    ]),
    renderFacts(host, time),
  ];
  const metrics = host.metrics ?? host.facts?.metrics ?? null;
  if (metrics !== null) sections.push(renderMetrics(metrics));
  return sections.join('\n\n');
}

function renderFacts(host: Host, time: TimeFormat): string {
  const facts = host.facts;
  if (facts === null) return 'Facts: none yet (the agent has not reported)';
  const { system } = facts;
  // A booted system other than the current one means a reboot is still pending or was skipped.
  const booted =
    system.booted !== null && system.current !== null && system.booted !== system.current
      ? `${system.booted} (differs from current)`
      : (system.booted ?? '-');
  return [
    `Facts (collected ${time.relative(facts.collectedAt)})`,
    keyValues(
      [
        ['Hostname', facts.hostname],
        ['OS', facts.osRelease?.prettyName ?? facts.osRelease?.name ?? facts.os],
        ['Kernel', facts.kernel ?? '-'],
        ['NixOS version', facts.nixosVersion ?? '-'],
        ['Configuration revision', facts.configurationRevision ?? '-'],
        ['Machine id', facts.machineId ?? '-'],
        ['Current system', system.current ?? '-'],
        ['Booted system', booted],
        ['Boot default', system.bootDefault ?? '-'],
        [
          'Reboot required',
          facts.rebootRequired ? 'yes (kernel, initrd or modules changed)' : 'no',
        ],
        [
          'Failed units',
          facts.failedUnits === null ? '- (no systemd)' : facts.failedUnits.join(', ') || 'none',
        ],
      ],
      '  ',
    ),
    ...renderGenerations(facts.generations, time),
  ].join('\n');
}

/** The newest generations, the current one marked; rollback targets for `flotilla rollback`. */
function renderGenerations(generations: readonly Generation[], time: TimeFormat): string[] {
  if (generations.length === 0) return [];
  const rows = generations
    .slice(0, 10)
    .map((g) => [
      g.current ? '*' : '',
      String(g.number),
      time.dateTime(g.date),
      shortStorePath(g.path),
    ]);
  return [
    '',
    'Generations (newest first, * = boot default)',
    table(['', 'GEN', 'DATE', 'SYSTEM'], rows, ['left', 'right']),
  ];
}

function renderMetrics(metrics: Metrics): string {
  const { memory } = metrics;
  const used = memory.totalBytes - memory.availableBytes;
  const lines = [
    'Metrics',
    keyValues(
      [
        ['Uptime', formatDuration(metrics.uptimeSeconds)],
        ['Load', metrics.load.map((value) => value.toFixed(2)).join(' ')],
        [
          'Memory',
          `${formatBytes(used)} used / ${formatBytes(memory.totalBytes)} (${formatPercent(used, memory.totalBytes)})`,
        ],
      ],
      '  ',
    ),
  ];
  if (metrics.disks.length > 0) {
    const rows = metrics.disks.map((disk) => {
      const usedBytes = disk.totalBytes - disk.freeBytes;
      return [
        disk.mount,
        formatBytes(usedBytes),
        formatBytes(disk.totalBytes),
        formatPercent(usedBytes, disk.totalBytes),
      ];
    });
    const disks = table(['MOUNT', 'USED', 'SIZE', 'USE'], rows, [
      'left',
      'right',
      'right',
      'right',
    ]);
    lines.push('  Disks', indent(disks, '    '));
  }
  return lines.join('\n');
}

/** The answer to `host add`: the token, once, and how to hand it to the agent. */
export function renderCreatedHost(created: CreateHostResponse, controllerUrl: string): string {
  const { host, token } = created;
  const os = host.os === null ? '' : `, ${host.os}`;
  return [
    `Registered host ${host.name} (${host.mode}${os}).`,
    '',
    'Agent token (shown only this once; the controller keeps only its hash):',
    '',
    `  ${token}`,
    '',
    `Store it on ${host.name} in a file only root can read, and configure the agent there with`,
    `that token file and the controller URL ${controllerUrl}.`,
  ].join('\n');
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}
