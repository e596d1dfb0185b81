import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Facts } from '@flotilla/protocol';
import { systemClock } from '@flotilla/runtime';
import { factsChanged } from './facts-change.js';
import { FactsCollector } from './facts-collector.js';
import type { FilesystemUsage, HostSources } from './host-sources.js';

const SYSTEM = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';

const files: Record<string, string> = {
  '/proc/sys/kernel/hostname': 'hsb1\n',
  '/proc/sys/kernel/osrelease': '6.6.30\n',
  '/etc/os-release': 'ID=nixos\nNAME=NixOS\nVERSION_ID="24.05"\nPRETTY_NAME="NixOS 24.05"\n',
  '/etc/machine-id': 'abc123\n',
  '/proc/sys/kernel/random/boot_id': 'boot-1\n',
  '/sandbox/hsb8/etc/hostname': 'hsb8\n',
  '/sandbox/hsb8/etc/machine-id': 'f00d\n',
  '/proc/uptime': '100.5 50.0\n',
  '/proc/loadavg': '0.1 0.2 0.3 1/100 999\n',
  '/proc/meminfo': 'MemTotal: 1000 kB\nMemAvailable: 500 kB\n',
  [`${SYSTEM}/nixos-version`]: '24.05.20240612.abcdef0\n',
};

const OLDER = '/nix/store/1c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';
const links: Record<string, { target: string; mtimeMs: number }> = {
  '/profile': { target: 'profile-2-link', mtimeMs: 0 },
  '/profile-1-link': { target: OLDER, mtimeMs: Date.UTC(2024, 0, 1) },
  '/profile-2-link': { target: SYSTEM, mtimeMs: Date.UTC(2024, 0, 2) },
};

function fakeSources(overrides: Partial<HostSources> = {}): HostSources & { runs: number } {
  const disks: Record<string, FilesystemUsage> = {
    '/': { device: 1, totalBytes: 1000, freeBytes: 400 },
    '/nix': { device: 1, totalBytes: 1000, freeBytes: 400 },
    '/data': { device: 2, totalBytes: 5000, freeBytes: 4000 },
  };
  const sources = {
    runs: 0,
    readText: (path: string) => Promise.resolve(files[path] ?? null),
    realpath: (path: string) =>
      Promise.resolve(path === '/run/current-system' || path === '/profile' ? SYSTEM : null),
    isExecutable: (path: string) => Promise.resolve(path === `${SYSTEM}/sw/bin/nixos-version`),
    listDir: (path: string) =>
      Promise.resolve(path === '/' ? ['profile', 'profile-1-link', 'profile-2-link', 'etc'] : null),
    linkInfo: (path: string) => Promise.resolve(links[path] ?? null),
    filesystemUsage: (path: string) => Promise.resolve(disks[path] ?? null),
    runForOutput: () => {
      sources.runs++;
      return Promise.resolve('{"nixosVersion":"24.05","configurationRevision":"deadbeef"}\n');
    },
    portable: {
      hostname: () => 'portable',
      release: () => '23.0.0',
      uptime: () => 7,
      loadavg: () => [1, 2, 3],
      totalmem: () => 2048,
      freemem: () => 1024,
    },
    ...overrides,
  };
  return sources;
}

function collector(
  sources: HostSources,
  disks = ['/', '/nix', '/data', '/missing'],
  systemd = false,
  identity = { hostnameFile: '/proc/sys/kernel/hostname', machineIdFile: '/etc/machine-id' },
) {
  return new FactsCollector({
    ...identity,
    sources,
    os: 'linux',
    disks,
    currentSystemLink: '/run/current-system',
    bootedSystemLink: '/run/booted-system',
    profile: '/profile',
    bootIdFile: '/proc/sys/kernel/random/boot_id',
    systemd,
    clock: systemClock,
  });
}

describe('FactsCollector', () => {
  it('collects facts that match the protocol schema', async () => {
    const sources = fakeSources();
    const facts = Facts.parse(await collector(sources).collect());
    assert.equal(facts.hostname, 'hsb1');
    assert.equal(facts.kernel, '6.6.30');
    assert.deepEqual(facts.osRelease, {
      id: 'nixos',
      name: 'NixOS',
      versionId: '24.05',
      prettyName: 'NixOS 24.05',
    });
    assert.equal(facts.machineId, 'abc123');
    assert.equal(facts.bootId, 'boot-1');
    assert.deepEqual(facts.system, { current: SYSTEM, booted: null, bootDefault: SYSTEM });
    assert.equal(facts.nixosVersion, '24.05.20240612.abcdef0');
    assert.equal(facts.configurationRevision, 'deadbeef');
    assert.deepEqual(facts.generations, [
      { number: 2, path: SYSTEM, date: '2024-01-02T00:00:00.000Z', current: true },
      { number: 1, path: OLDER, date: '2024-01-01T00:00:00.000Z', current: false },
    ]);
    assert.equal(facts.rebootRequired, false);
    assert.equal(facts.failedUnits, null);
    assert.deepEqual(facts.metrics, {
      uptimeSeconds: 100.5,
      load: [0.1, 0.2, 0.3],
      memory: { totalBytes: 1024000, availableBytes: 512000 },
      disks: [
        { mount: '/', totalBytes: 1000, freeBytes: 400 },
        { mount: '/data', totalBytes: 5000, freeBytes: 4000 },
      ],
    });
  });

  it('reads the hostname and machine id from the files it is given', async () => {
    const facts = await collector(fakeSources(), ['/'], false, {
      hostnameFile: '/sandbox/hsb8/etc/hostname',
      machineIdFile: '/sandbox/hsb8/etc/machine-id',
    }).collect();
    assert.equal(facts.hostname, 'hsb8');
    assert.equal(facts.machineId, 'f00d');
    const missing = await collector(fakeSources(), ['/'], false, {
      hostnameFile: '/sandbox/gone/etc/hostname',
      machineIdFile: '/sandbox/gone/etc/machine-id',
    }).collect();
    assert.equal(missing.hostname, 'portable', 'a missing hostname file falls back to Node');
    assert.equal(missing.machineId, null);
  });

  it('runs nixos-version once per system', async () => {
    const sources = fakeSources();
    const facts = collector(sources);
    await facts.collect();
    await facts.collect();
    assert.equal(sources.runs, 1);
  });

  it('reports absent things as null and falls back to Node where /proc is missing', async () => {
    const sources = fakeSources({
      readText: () => Promise.resolve(null),
      realpath: () => Promise.resolve(null),
    });
    const facts = Facts.parse(await collector(sources).collect());
    assert.equal(facts.hostname, 'portable');
    assert.equal(facts.kernel, '23.0.0');
    assert.equal(facts.osRelease, null);
    assert.deepEqual(facts.system, { current: null, booted: null, bootDefault: null });
    assert.equal(facts.nixosVersion, null);
    assert.equal(facts.configurationRevision, null);
    assert.deepEqual(facts.metrics.load, [1, 2, 3]);
    assert.deepEqual(facts.metrics.memory, { totalBytes: 2048, availableBytes: 1024 });
  });
});

describe('FactsCollector on a systemd host', () => {
  it('lists failed units and notices a kernel that differs from the booted one', async () => {
    const booted = '/nix/store/2c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';
    const paths: Record<string, string> = {
      '/run/booted-system': booted,
      '/profile': SYSTEM,
      [`${booted}/kernel`]: '/nix/store/k1-linux/bzImage',
      [`${SYSTEM}/kernel`]: '/nix/store/k2-linux/bzImage',
    };
    const sources = fakeSources({
      realpath: (path) => Promise.resolve(paths[path] ?? null),
      runForOutput: (command) =>
        Promise.resolve(
          command === 'systemctl'
            ? '[{"unit":"b.service","load":"loaded","active":"failed","sub":"failed"},{"unit":"a.mount"}]'
            : null,
        ),
    });
    const facts = Facts.parse(await collector(sources, ['/'], true).collect());
    assert.deepEqual(facts.failedUnits, ['a.mount', 'b.service']);
    assert.equal(facts.rebootRequired, true);
    assert.deepEqual(facts.system, { current: null, booted, bootDefault: SYSTEM });
  });
});

describe('factsChanged', () => {
  it('ignores metrics and the collection time', async () => {
    const sources = fakeSources();
    const first = await collector(sources).collect();
    const second = { ...first, collectedAt: new Date(0).toISOString() };
    second.metrics = { ...first.metrics, uptimeSeconds: 999 };
    assert.equal(factsChanged(first, second), false);
    assert.equal(factsChanged(null, first), true);
    const switched = { ...first, system: { ...first.system, current: null } };
    assert.equal(factsChanged(first, switched), true);
  });
});
