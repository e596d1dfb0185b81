import type { BootFile } from '@flotilla/protocol';
import type { HostSources } from './host-sources.js';

/** What a reboot would change about the running kernel: realpaths, null when absent. */
export interface BootFiles {
  kernel: string | null;
  initrd: string | null;
  kernelModules: string | null;
}

/**
 * True when booting `next` would run another kernel, initrd or module set than `booted`
 * does (what nixos-rebuild's "reboot required" hint compares). False when either system
 * is unknown: no claim is made without both.
 */
export function bootFilesDiffer(booted: BootFiles | null, next: BootFiles | null): boolean {
  if (booted === null || next === null) return false;
  return changedBootFiles(booted, next).length > 0;
}

/** The boot files that differ between two systems, in a fixed order. */
export function changedBootFiles(booted: BootFiles, next: BootFiles): BootFile[] {
  const changed: BootFile[] = [];
  if (booted.kernel !== next.kernel) changed.push('kernel');
  if (booted.initrd !== next.initrd) changed.push('initrd');
  if (booted.kernelModules !== next.kernelModules) changed.push('kernel-modules');
  return changed;
}

/** The boot files of a system (a store path), or null when there is no system. */
export async function readBootFiles(
  sources: HostSources,
  system: string | null,
): Promise<BootFiles | null> {
  if (system === null) return null;
  const [kernel, initrd, kernelModules] = await Promise.all([
    sources.realpath(`${system}/kernel`),
    sources.realpath(`${system}/initrd`),
    sources.realpath(`${system}/kernel-modules`),
  ]);
  return { kernel, initrd, kernelModules };
}
