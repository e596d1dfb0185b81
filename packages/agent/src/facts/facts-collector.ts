import type { DiskUsage, Facts, HostOs, Metrics, SystemState } from '@flotilla/protocol';
import type { Clock } from '../clock.js';
import type { HostSources } from './host-sources.js';
import { parseOsRelease } from './os-release.js';
import { parseLoadavg, parseMeminfo, parseUptime } from './proc-files.js';

export interface FactsCollectorOptions {
  sources: HostSources;
  os: HostOs;
  /** Mount points whose usage is reported; missing ones are skipped. */
  disks: readonly string[];
  currentSystemLink: string;
  bootedSystemLink: string;
  /** The system profile; its target is the system selected for the next boot. */
  profile: string;
  clock: Clock;
}

/** What `nixos-version --json` tells about a system; read once per system path. */
interface SystemVersion {
  nixosVersion: string | null;
  configurationRevision: string | null;
}

/** The protocol allows at most this many disks in metrics. */
const MAX_DISKS = 16;

/** Reads facts and metrics from the host. Every read is fresh except the per-system version. */
export class FactsCollector {
  private versionCache: { system: string; version: SystemVersion } | null = null;

  constructor(private readonly options: FactsCollectorOptions) {}

  /** Collects every fact; the result matches the protocol's `Facts` schema. */
  async collect(): Promise<Facts> {
    const { sources } = this.options;
    const [hostname, kernel, osReleaseText, machineId, bootId, system, metrics] = await Promise.all(
      [
        sources.readText('/proc/sys/kernel/hostname'),
        sources.readText('/proc/sys/kernel/osrelease'),
        this.readOsRelease(),
        sources.readText('/etc/machine-id'),
        sources.readText('/proc/sys/kernel/random/boot_id'),
        this.collectSystem(),
        this.collectMetrics(),
      ],
    );
    const version = await this.systemVersion(system.current);
    return {
      hostname: trimmed(hostname) ?? sources.portable.hostname(),
      os: this.options.os,
      kernel: trimmed(kernel) ?? (sources.portable.release() || null),
      osRelease: osReleaseText === null ? null : parseOsRelease(osReleaseText),
      machineId: trimmed(machineId),
      bootId: trimmed(bootId),
      system,
      nixosVersion: version.nixosVersion,
      configurationRevision: version.configurationRevision,
      metrics,
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
    return {
      uptimeSeconds: (uptimeText === null ? null : parseUptime(uptimeText)) ?? portable.uptime(),
      load: load ?? [one, five, fifteen],
      memory: memory ?? { totalBytes: portable.totalmem(), availableBytes: portable.freemem() },
      disks,
    };
  }

  /** Re-reads the current system link alone, e.g. to report the result of an activation. */
  currentSystem(): Promise<string | null> {
    return this.options.sources.realpath(this.options.currentSystemLink);
  }

  private async collectSystem(): Promise<SystemState> {
    const { sources, currentSystemLink, bootedSystemLink, profile } = this.options;
    const [current, booted, bootDefault] = await Promise.all([
      sources.realpath(currentSystemLink),
      sources.realpath(bootedSystemLink),
      sources.realpath(profile),
    ]);
    return { current, booted, bootDefault };
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
      disks.push({ mount, totalBytes: usage.totalBytes, freeBytes: usage.freeBytes });
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

/** Parses `nixos-version --json` output; fields that are absent or not strings become null. */
export function parseNixosVersionJson(text: string): SystemVersion | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const field = (name: string): string | null => {
    const value: unknown = (data as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  return {
    nixosVersion: field('nixosVersion'),
    configurationRevision: field('configurationRevision'),
  };
}

function trimmed(text: string | null): string | null {
  const value = text?.trim();
  return value === undefined || value === '' ? null : value;
}
