import type {
  CreateHostResponse,
  DarwinFacts,
  EnrollmentToken,
  Generation,
  Host,
  HostIdentity,
  HostList,
  Metrics,
  RevokeHostResponse,
} from '@flotilla/protocol';
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
    osLabel(host),
    agentLabel(host),
    revisionLabel(host),
    syncLabel(host),
    time.relative(host.lastSeenAt),
  ]);
  const headers = ['NAME', 'MODE', 'STATUS', 'OS', 'AGENT', 'RUNNING', 'BRANCH', 'LAST SEEN'];
  const footer = filtered
    ? `${list.hosts.length} shown; ${hostCountsLine(list.counts)}`
    : hostCountsLine(list.counts);
  return `${table(headers, rows)}\n\n${footer}`;
}

/** The operating system in a few words: "macOS 14.6.1", "NixOS 24.05", or its kind. */
export function osLabel(host: Host): string {
  const release = host.facts?.osRelease ?? null;
  if (release?.name && release.versionId) return `${release.name} ${release.versionId}`;
  return release?.name ?? host.facts?.os ?? host.os ?? '-';
}

/**
 * What a host runs: the commit of the release or revision whose output it runs, else the
 * store path (its system, or its home-manager generation for a home-manager host).
 */
export function revisionLabel(host: Host): string {
  const sha = host.sync?.runningSha ?? null;
  if (sha !== null) return sha.slice(0, 8);
  return shortStorePath(host.sync?.runningPath ?? host.facts?.system.current ?? null);
}

/** The running output against the branch: up to date, behind by N, drifted, or "-". */
export function syncLabel(host: Host): string {
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
      ['Identity', identityLabel(host.name, host.identity, time)],
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
    ...renderDarwin(facts.darwin, time),
    ...renderGenerations(facts.generations, time),
  ].join('\n');
}

/** What only a Mac reports: hardware, memory pressure, Nix, nix-darwin and home-manager. */
function renderDarwin(darwin: DarwinFacts | null, time: TimeFormat): string[] {
  if (darwin === null) return [];
  const system = darwin.darwinSystem;
  const home = darwin.homeManager;
  return [
    '',
    'macOS',
    keyValues(
      [
        ['Version', [darwin.productName, darwin.productVersion].filter(Boolean).join(' ') || '-'],
        ['Build', darwin.buildVersion ?? '-'],
        ['Model', darwin.model ?? '-'],
        ['CPUs', darwin.cpus === null ? '-' : String(darwin.cpus)],
        ['Memory pressure', darwin.memoryPressure ?? '-'],
        ['Nix', darwin.nixVersion ?? '-'],
        [
          'nix-darwin system',
          system === null
            ? '-'
            : `${shortStorePath(system.path)}${system.label ? ` (${system.label})` : ''}`,
        ],
        [
          'home-manager',
          home === null
            ? '-'
            : `generation ${home.generation} of ${time.dateTime(home.date)}: ${shortStorePath(home.path)}`,
        ],
      ],
      '  ',
    ),
  ];
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

/** Where a host's key stands, and what to do when it has none. */
export function identityLabel(
  name: string,
  identity: HostIdentity | undefined,
  time: TimeFormat,
): string {
  if (identity === undefined) return '-';
  const pending =
    identity.enrollmentExpiresAt === null
      ? `no valid token: flotilla host enroll ${name}`
      : `token valid until ${time.stamp(identity.enrollmentExpiresAt)}`;
  switch (identity.status) {
    case 'enrolled':
      return `enrolled ${time.stamp(identity.enrolledAt)}, key ${identity.keyFingerprint ?? '-'}${
        identity.enrollmentExpiresAt === null ? '' : ` (a new ${pending})`
      }`;
    case 'pending':
      return `not enrolled yet (${pending})`;
    case 'revoked':
      return `revoked ${time.stamp(identity.revokedAt)} (${pending})`;
  }
}

/** The first line of the answer to `host add`; the enrollment follows. */
export function renderCreatedHost(created: CreateHostResponse): string {
  const { host } = created;
  const os = host.os === null ? '' : `, ${host.os}`;
  return `Registered host ${host.name} (${host.mode}${os}).\n`;
}

/** The agent gateway URL for a controller URL the CLI talks to (http→ws, https→wss). */
export function agentGatewayUrl(controllerUrl: string): string {
  const url = new URL('/api/v1/agent/ws', controllerUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * A one-time enrollment token, once, with the agent settings to give it on the host:
 * flags and the same as a config file. `cacheKey` is the key agents must trust (null when
 * unknown).
 */
export function renderEnrollment(
  enrollment: EnrollmentToken,
  controllerUrl: string,
  cacheKey: string | null,
  time: TimeFormat,
  renewal: boolean,
): string {
  const { host, token, expiresAt } = enrollment;
  const gateway = agentGatewayUrl(controllerUrl);
  const tokenFile = '/var/lib/flotilla-agent/enrollment-token';
  const key = cacheKey ?? 'NAME:KEY (see flotilla cache)';
  const config = {
    controllerUrl: gateway,
    host,
    enrollmentTokenFile: tokenFile,
    trustedPublicKeys: [key],
    healthChecks: [],
  };
  const lines = [
    `Enrollment token for ${host} (shown only this once; valid once, until ${time.stamp(expiresAt)}):`,
    '',
    `  ${token}`,
    '',
    `On ${host}, put it in a file only root can read, e.g. ${tokenFile}, and start the agent:`,
    '',
    `  flotilla-agent --controller-url ${gateway} \\`,
    `    --host ${host} --enrollment-token-file ${tokenFile} \\`,
    `    --trusted-public-key ${key}`,
    '',
    'or with these settings in its --config file (health checks go there too):',
    '',
    indent(JSON.stringify(config, null, 2), '  '),
    '',
    'The agent makes its own key on first start and enrolls it with the token, which is then',
    'used up; the key never leaves the host.' +
      (renewal ? " The host's current key works until then." : ''),
  ];
  if (new URL(gateway).protocol === 'ws:' && !isLoopback(new URL(gateway).hostname)) {
    lines.push(
      '',
      `Note: agents on other machines need wss:// (TLS); ${controllerUrl} is plain HTTP. Put the`,
      'controller behind a TLS proxy and use its https:// URL.',
    );
  }
  return lines.join('\n');
}

/** The answer to `host revoke`. */
export function renderRevoked(revoked: RevokeHostResponse): string {
  const key = revoked.keyFingerprint === null ? 'it had no key' : `key ${revoked.keyFingerprint}`;
  const tokens =
    revoked.enrollmentTokensRevoked === 0
      ? ''
      : `, ${revoked.enrollmentTokensRevoked} unused enrollment token${revoked.enrollmentTokensRevoked === 1 ? '' : 's'}`;
  return [
    `Revoked ${revoked.host}: ${key}${tokens}.`,
    revoked.disconnected ? 'Its agent was disconnected.' : 'Its agent was not connected.',
    `It comes back only with a new token: flotilla host enroll ${revoked.host}`,
  ].join('\n');
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}
