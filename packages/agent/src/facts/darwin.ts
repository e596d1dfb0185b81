import type { MemoryPressure } from '@flotilla/protocol';
import { jsonStringFields } from './nixos-version.js';

/**
 * Pure parsers for what macOS commands print, tested on published output of real Macs
 * (`fixtures/`, with the source of each).
 */

/** What `sw_vers` says: "macOS" (or "Mac OS X"), the version and the build. */
export interface SwVers {
  productName: string | null;
  productVersion: string | null;
  buildVersion: string | null;
}

/** `sw_vers` prints `Key:<tabs or spaces>value` lines (the spacing differs between releases). */
export function parseSwVers(text: string): SwVers {
  const fields = keyValueLines(text, /^(\w+):\s*(.*)$/);
  return {
    productName: fields.get('ProductName') ?? null,
    productVersion: fields.get('ProductVersion') ?? null,
    buildVersion: fields.get('BuildVersion') ?? null,
  };
}

/** `sysctl NAME…` without `-n`: one `name: value` line per name, names kept. */
export function parseSysctl(text: string): Map<string, string> {
  return keyValueLines(text, /^([A-Za-z0-9_.]+): (.*)$/);
}

/** Seconds since the epoch of `kern.boottime` (`{ sec = 1688981418, usec = 412200 } Mon Jul…`). */
export function parseBoottime(value: string | undefined): number | null {
  const match = /\bsec = (\d+)/.exec(value ?? '');
  return match ? Number(match[1]) : null;
}

/** A whole non-negative number (`hw.memsize`, `hw.ncpu`), or null. */
export function parseCount(value: string | undefined): number | null {
  const text = value?.trim() ?? '';
  return /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * `kern.memorystatus_vm_pressure_level`: the level Activity Monitor colours its memory
 * pressure graph with (1 normal/green, 2 warning/yellow, 4 critical/red; xnu's
 * `kVMPressureNormal`, `Warning`, `Critical`).
 */
const PRESSURE_LEVELS: Record<string, MemoryPressure> = { 1: 'normal', 2: 'warn', 4: 'critical' };

export function parseMemoryPressure(value: string | undefined): MemoryPressure | null {
  const level = value?.trim() ?? '';
  return Object.hasOwn(PRESSURE_LEVELS, level) ? (PRESSURE_LEVELS[level] ?? null) : null;
}

/** What `vm_stat` says: its page size and every `Pages …` count (in pages). */
export interface VmStat {
  pageSize: number;
  pages: Map<string, number>;
}

/**
 * `vm_stat`: a header with the page size (4096 on Intel, 16384 on Apple silicon) and
 * `Name:   count.` lines.
 */
export function parseVmStat(text: string): VmStat | null {
  const header = /page size of (\d+) bytes/.exec(text);
  if (!header) return null;
  const pages = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^"?([^":]+)"?:\s+(\d+)\.$/.exec(line.trim());
    if (match?.[1] !== undefined) pages.set(match[1], Number(match[2]));
  }
  return { pageSize: Number(header[1]), pages };
}

/**
 * Memory that can be had without paging, from `vm_stat`: free, speculative (read ahead,
 * dropped first) and inactive pages. vm_stat counts speculative pages apart from free ones.
 */
export function availableBytes(vmStat: VmStat): number | null {
  const free = vmStat.pages.get('Pages free');
  if (free === undefined) return null;
  const speculative = vmStat.pages.get('Pages speculative') ?? 0;
  const inactive = vmStat.pages.get('Pages inactive') ?? 0;
  return (free + speculative + inactive) * vmStat.pageSize;
}

/** The version in `nix --version` (`nix (Nix) 2.24.10`, also Lix's `nix (Lix, like Nix) 2.91.1`). */
export function parseNixVersion(text: string): string | null {
  return /^nix \([^)]*\) (\S+)/.exec(text.trim())?.[1] ?? null;
}

/** What nix-darwin's `darwin-version.json` (in every system it builds) says. */
export interface DarwinVersion {
  label: string | null;
  revision: string | null;
  configurationRevision: string | null;
}

export function parseDarwinVersionJson(text: string): DarwinVersion | null {
  const field = jsonStringFields(text);
  if (field === null) return null;
  return {
    label: field('darwinLabel'),
    revision: field('darwinRevision'),
    configurationRevision: field('configurationRevision'),
  };
}

/** The generation number of a profile link's target (`home-manager-42-link` → 42). */
export function generationNumber(target: string): number | null {
  const match = /-(\d+)-link$/.exec(target);
  return match ? Number(match[1]) : null;
}

function keyValueLines(text: string, pattern: RegExp): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = pattern.exec(line.trimEnd());
    if (match?.[1] !== undefined && match[2] !== undefined) fields.set(match[1], match[2].trim());
  }
  return fields;
}
