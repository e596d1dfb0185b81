import type { BootFile, DiskUsage, Facts, HostOs, Metrics, SystemState } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { HostState } from '../deploy/deployment-run.js';
import { FAILED_UNITS_ARGS, parseFailedUnits } from '../systemd.js';
import type { DarwinProbe } from './darwin-probe.js';
import { readGenerations } from './generations.js';
import { asStorePath, plain } from './reportable.js';
import type { HostSources } from './host-sources.js';
import { parseNixosVersionJson, type SystemVersion } from './nixos-version.js';
import { parseOsRelease } from './os-release.js';
import { parseLoadavg, parseMeminfo, parseUptime } from './proc-files.js';
import { bootFilesDiffer, changedBootFiles, readBootFiles } from './reboot-required.js';

export interface FactsCollectorOptions {
  sources: HostSources;
  os: HostOs;
  /** Mount points whose usage is reported; missing ones are skipped. */
  disks: readonly string[];
  currentSystemLink: string;
  bootedSystemLink: string;
  /** The system profile; its target is the system selected for the next boot. */
  profile: string;
  /** Where the boot id is read (the kernel's, except in sandboxes that simulate reboots). */
  bootIdFile: string;
  /** Where the hostname is read (the kernel's, except in sandboxes that give each host its own). */
  hostnameFile: string;
  /** Where the machine id is read (`/etc/machine-id`, except in sandboxes). */
  machineIdFile: string;
  /** Whether systemd runs the host; failed units are null without it. */
  systemd: boolean;
  /** A macOS host (`os: darwin`): what only a Mac reports, read with its programs. */
  darwin?: DarwinProbe;
  clock: Clock;
}

/** The protocol allows at most this many disks in metrics. */
const MAX_DISKS = 16;

/**
 * Reads facts and metrics from the host. Every read is fresh except the per-system
 * version. Also answers the deployment executor's questions about the host.
 */
export class FactsCollector implements HostState {
  private versionCache: { system: string; version: SystemVersion } | null = null;

  constructor(private readonly options: FactsCollectorOptions) {}

  /** Collects every fact; the result matches the protocol's `Facts` schema. */
  async collect(): Promise<Facts> {
    const facts = await this.collectCommon();
    const darwin = this.options.darwin;
    if (darwin === undefined) return facts;
    const swVers = await darwin.swVers();
    const { productName, productVersion, buildVersion } = swVers ?? {};
    return {
      ...facts,
      osRelease: swVers && {
        id: 'macos',
        name: plain(productName ?? null, 256),
        versionId: plain(productVersion ?? null, 128),
        prettyName: plain(
          [productName, productVersion, buildVersion && `(${buildVersion})`]
            .filter(Boolean)
            .join(' ') || null,
          256,
        ),
      },
      darwin: await darwin.facts(swVers, facts.system.current),
    };
  }

  private async collectCommon(): Promise<Facts> {
    const { sources, hostnameFile, machineIdFile } = this.options;
    const [hostname, kernel, osReleaseText, machineId, bootId, system, metrics] = await Promise.all(
      [
        sources.readText(hostnameFile),
        sources.readText('/proc/sys/kernel/osrelease'),
        this.readOsRelease(),
        sources.readText(machineIdFile),
        this.bootId(),
        this.collectSystem(),
        this.collectMetrics(),
      ],
    );
    const [version, generations, rebootRequired, failedUnits] = await Promise.all([
      this.systemVersion(system.current),
      readGenerations(sources, this.options.profile),
      this.systemsNeedReboot(system.booted, system.bootDefault),
      this.failedUnits(),
    ]);
    const osRelease = osReleaseText === null ? null : parseOsRelease(osReleaseText);
    return {
      hostname: plain(trimmed(hostname) ?? sources.portable.hostname(), 253),
      os: this.options.os,
      kernel: plain(trimmed(kernel) ?? (sources.portable.release() || null), 256),
      osRelease: osRelease && {
        id: plain(osRelease.id, 128),
        name: plain(osRelease.name, 256),
        versionId: plain(osRelease.versionId, 128),
        prettyName: plain(osRelease.prettyName, 256),
      },
      machineId: plain(trimmed(machineId), 64),
      bootId: plain(bootId, 64),
      system,
      nixosVersion: plain(version.nixosVersion, 128),
      configurationRevision: plain(version.configurationRevision, 128),
      generations: generations.filter((g) => asStorePath(g.path) !== null),
      rebootRequired,
      failedUnits: failedUnits && failedUnits.slice(0, 500).map((unit) => plain(unit, 256)),
      metrics,
      darwin: null,
      collectedAt: this.options.clock.now().toISOString(),
    };
  }

  /** Uptime, load, memory and disk usage, as carried by every heartbeat. */
  async collectMetrics(): Promise<Metrics> {
    const { sources } = this.options;
    const portable = sources.portable;
    const [uptimeText, loadText, meminfoText, disks] = await Promise.all([
      sources.readText('/proc/uptime'),
      sources.readText('/proc/loadavg'),
      sources.readText('/proc/meminfo'),
      this.collectDisks(),
    ]);
    const load = loadText === null ? null : parseLoadavg(loadText);
    const memory = meminfoText === null ? null : parseMeminfo(meminfoText);
    const [one = 0, five = 0, fifteen = 0] = portable.loadavg();
    // A Mac has no /proc: uptime and memory from sysctl and vm_stat, the load from
    // getloadavg(3) through Node.js, disks from statfs(2) as everywhere.
    const mac = this.options.darwin ? await this.options.darwin.metrics() : null;
    return {
      uptimeSeconds:
        mac?.uptimeSeconds ??
        (uptimeText === null ? null : parseUptime(uptimeText)) ??
        portable.uptime(),
      load: (mac ? null : load) ?? [one, five, fifteen],
      memory: mac?.memory ??
        memory ?? { totalBytes: portable.totalmem(), availableBytes: portable.freemem() },
      disks,
    };
  }

  /** Re-reads the current system link alone, e.g. to report the result of an activation. */
  async currentSystem(): Promise<string | null> {
    return asStorePath(await this.options.sources.realpath(this.options.currentSystemLink));
  }

  /** Where the system profile points: the system the next boot starts. */
  bootDefault(): Promise<string | null> {
    return this.options.sources.realpath(this.options.profile);
  }

  /** The id of the running boot; changes exactly when the host rebooted. */
  async bootId(): Promise<string | null> {
    return trimmed(await this.options.sources.readText(this.options.bootIdFile));
  }

  /** Failed systemd units; null without systemd or when systemctl cannot tell. */
  async failedUnits(): Promise<string[] | null> {
    if (!this.options.systemd) return null;
    const json = await this.options.sources.runForOutput('systemctl', FAILED_UNITS_ARGS);
    return json === null ? null : parseFailedUnits(json);
  }

  /** The booted kernel, initrd or modules differ from the boot default's. */
  async rebootRequired(): Promise<boolean> {
    const { sources, bootedSystemLink, profile } = this.options;
    const [booted, bootDefault] = await Promise.all([
      sources.realpath(bootedSystemLink),
      sources.realpath(profile),
    ]);
    return this.systemsNeedReboot(booted, bootDefault);
  }

  /**
   * What booting `system` would change against the booted system: the booted system and
   * the boot files that differ. Null when no booted system is known (the link is missing).
   */
  async bootChangesFor(
    system: string,
  ): Promise<{ bootedSystem: string; changed: BootFile[] } | null> {
    const { sources, bootedSystemLink } = this.options;
    const booted = asStorePath(await sources.realpath(bootedSystemLink));
    if (booted === null) return null;
    const [bootedFiles, nextFiles] = await Promise.all([
      readBootFiles(sources, booted),
      readBootFiles(sources, system),
    ]);
    if (bootedFiles === null || nextFiles === null) return null;
    return { bootedSystem: booted, changed: changedBootFiles(bootedFiles, nextFiles) };
  }

  private async systemsNeedReboot(booted: string | null, next: string | null): Promise<boolean> {
    const { sources } = this.options;
    const [bootedFiles, nextFiles] = await Promise.all([
      readBootFiles(sources, booted),
      readBootFiles(sources, next),
    ]);
    return bootFilesDiffer(bootedFiles, nextFiles);
  }

  private async collectSystem(): Promise<SystemState> {
    const { sources, currentSystemLink, bootedSystemLink, profile } = this.options;
    const [current, booted, bootDefault] = await Promise.all([
      sources.realpath(currentSystemLink),
      sources.realpath(bootedSystemLink),
      sources.realpath(profile),
    ]);
    return {
      current: asStorePath(current),
      booted: asStorePath(booted),
      bootDefault: asStorePath(bootDefault),
    };
  }

  private async readOsRelease(): Promise<string | null> {
    const { sources } = this.options;
    return (await sources.readText('/etc/os-release')) ?? sources.readText('/usr/lib/os-release');
  }

  /** Usage of each configured mount, once per filesystem (so "/" and "/nix" on one disk count once). */
  private async collectDisks(): Promise<DiskUsage[]> {
    const usages = await Promise.all(
      this.options.disks.map((mount) => this.options.sources.filesystemUsage(mount)),
    );
    const seen = new Set<number>();
    const disks: DiskUsage[] = [];
    this.options.disks.forEach((mount, index) => {
      const usage = usages[index];
      if (usage === null || usage === undefined || seen.has(usage.device)) return;
      seen.add(usage.device);
      disks.push({
        mount: plain(mount, 1024),
        totalBytes: usage.totalBytes,
        freeBytes: usage.freeBytes,
      });
    });
    return disks.slice(0, MAX_DISKS);
  }

  private async systemVersion(system: string | null): Promise<SystemVersion> {
    if (system === null) return { nixosVersion: null, configurationRevision: null };
    if (this.versionCache?.system === system) return this.versionCache.version;
    const version = await this.readSystemVersion(system);
    this.versionCache = { system, version };
    return version;
  }

  /**
   * The version file exists in every NixOS system; `configurationRevision` (the flake's git
   * revision, when the configuration sets it) is only available from `nixos-version --json`.
   */
  private async readSystemVersion(system: string): Promise<SystemVersion> {
    const { sources } = this.options;
    const fromFile = trimmed(await sources.readText(`${system}/nixos-version`));
    const tool = `${system}/sw/bin/nixos-version`;
    const json = (await sources.isExecutable(tool))
      ? await sources.runForOutput(tool, ['--json'])
      : null;
    const fromTool = json === null ? null : parseNixosVersionJson(json);
    return {
      nixosVersion: fromFile ?? fromTool?.nixosVersion ?? null,
      configurationRevision: fromTool?.configurationRevision ?? null,
    };
  }
}

function trimmed(text: string | null): string | null {
  const value = text?.trim();
  return value === undefined || value === '' ? null : value;
}
