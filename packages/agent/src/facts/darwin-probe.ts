import { dirname, join, resolve } from 'node:path';
import type { DarwinFacts } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import {
  availableBytes,
  generationNumber,
  parseBoottime,
  parseCount,
  parseDarwinVersionJson,
  parseMemoryPressure,
  parseNixVersion,
  parseSwVers,
  parseSysctl,
  parseVmStat,
  type SwVers,
} from './darwin.js';
import type { HostSources } from './host-sources.js';
import { asStorePath, plain } from './reportable.js';

/** Where the macOS programs the agent runs are. */
export interface DarwinCommands {
  swVers: string;
  sysctl: string;
  vmStat: string;
  nix: string;
}

/** Where macOS keeps them; `nix` is found on the agent's PATH. */
export const MACOS_COMMANDS: DarwinCommands = {
  swVers: '/usr/bin/sw_vers',
  sysctl: '/usr/sbin/sysctl',
  vmStat: '/usr/bin/vm_stat',
  nix: 'nix',
};

/**
 * The same programs from one directory: a test and demo facility that lets an agent on
 * Linux report as a Mac, the directory holding small scripts that print published output
 * of real Macs. Not a feature: a real Mac uses {@link MACOS_COMMANDS}.
 */
export function commandsIn(dir: string): DarwinCommands {
  return {
    swVers: join(dir, 'sw_vers'),
    sysctl: join(dir, 'sysctl'),
    vmStat: join(dir, 'vm_stat'),
    nix: join(dir, 'nix'),
  };
}

export interface DarwinProbeOptions {
  sources: HostSources;
  commands: DarwinCommands;
  /**
   * home-manager profile links, first existing wins: `~/.local/state/nix/profiles/home-manager`
   * (home-manager since 23.05) and `/nix/var/nix/profiles/per-user/$USER/home-manager`.
   */
  homeManagerProfiles: readonly string[];
  clock: Clock;
}

/** Names read once per facts report (one sysctl call). */
const FACT_NAMES = ['hw.model', 'hw.ncpu', 'hw.memsize', 'kern.memorystatus_vm_pressure_level'];
/** Names read with every heartbeat. */
const METRIC_NAMES = ['hw.memsize', 'kern.boottime'];

/** What a Mac's metrics need from it; null where it could not tell. */
export interface DarwinMetrics {
  uptimeSeconds: number | null;
  memory: { totalBytes: number; availableBytes: number } | null;
}

/**
 * Reads what a macOS host reports: `sw_vers`, `sysctl`, `vm_stat`, `nix --version`,
 * nix-darwin's current system and the home-manager generation. Every program runs by
 * argument array in the agent's environment; whatever fails is reported as unknown.
 */
export class DarwinProbe {
  constructor(private readonly options: DarwinProbeOptions) {}

  async swVers(): Promise<SwVers | null> {
    const text = await this.options.sources.runForOutput(this.options.commands.swVers, []);
    return text === null ? null : parseSwVers(text);
  }

  /** The darwin part of the facts; `currentSystem` is what `/run/current-system` points at. */
  async facts(swVers: SwVers | null, currentSystem: string | null): Promise<DarwinFacts> {
    const { sources, commands } = this.options;
    const [sysctlText, nixText, darwinSystem, homeManager] = await Promise.all([
      sources.runForOutput(commands.sysctl, FACT_NAMES),
      sources.runForOutput(commands.nix, ['--version']),
      this.darwinSystem(currentSystem),
      this.homeManager(),
    ]);
    const values = parseSysctl(sysctlText ?? '');
    const cpus = parseCount(values.get('hw.ncpu'));
    return {
      productName: plain(swVers?.productName ?? null, 128),
      productVersion: plain(swVers?.productVersion ?? null, 64),
      buildVersion: plain(swVers?.buildVersion ?? null, 64),
      model: plain(values.get('hw.model') ?? null, 128),
      cpus: cpus !== null && cpus > 0 ? cpus : null,
      memoryPressure: parseMemoryPressure(values.get('kern.memorystatus_vm_pressure_level')),
      nixVersion: plain(nixText === null ? null : parseNixVersion(nixText), 128),
      darwinSystem,
      homeManager,
    };
  }

  async metrics(): Promise<DarwinMetrics> {
    const { sources, commands, clock } = this.options;
    const [sysctlText, vmStatText] = await Promise.all([
      sources.runForOutput(commands.sysctl, METRIC_NAMES),
      sources.runForOutput(commands.vmStat, []),
    ]);
    const values = parseSysctl(sysctlText ?? '');
    const boot = parseBoottime(values.get('kern.boottime'));
    const total = parseCount(values.get('hw.memsize'));
    const vmStat = vmStatText === null ? null : parseVmStat(vmStatText);
    const available = vmStat === null ? null : availableBytes(vmStat);
    return {
      uptimeSeconds: boot === null ? null : Math.max(0, clock.now().getTime() / 1000 - boot),
      memory:
        total !== null && available !== null
          ? { totalBytes: total, availableBytes: Math.min(available, total) }
          : null,
    };
  }

  private async darwinSystem(current: string | null): Promise<DarwinFacts['darwinSystem']> {
    if (current === null) return null;
    const text = await this.options.sources.readText(`${current}/darwin-version.json`);
    const version = text === null ? null : parseDarwinVersionJson(text);
    return {
      path: current,
      label: plain(version?.label ?? null, 128),
      revision: plain(version?.revision ?? null, 128),
      configurationRevision: plain(version?.configurationRevision ?? null, 128),
    };
  }

  /** The generation the home-manager profile points at: its number, package and date. */
  private async homeManager(): Promise<DarwinFacts['homeManager']> {
    const { sources } = this.options;
    for (const profile of this.options.homeManagerProfiles) {
      const link = await sources.linkInfo(profile);
      if (link === null) continue;
      const generation = generationNumber(link.target);
      const [path, generationLink] = await Promise.all([
        sources.realpath(profile),
        sources.linkInfo(resolve(dirname(profile), link.target)),
      ]);
      const storePath = asStorePath(path);
      if (generation === null || storePath === null || generationLink === null) return null;
      return {
        generation,
        path: storePath,
        date: new Date(generationLink.mtimeMs).toISOString(),
      };
    }
    return null;
  }
}
