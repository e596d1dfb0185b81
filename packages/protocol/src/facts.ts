import * as z from 'zod';
import { StorePath } from './store-path.js';

/**
 * Text a host reports about itself, shown to people as it is: one line of at most `max`
 * characters, without control characters or the invisible marks that reorder text
 * (U+200E/F, U+202A–E, U+2066–9), so a host cannot dress up what the fleet view shows.
 */
export function plainText(max: number) {
  return z
    .string()
    .max(max)
    .regex(
      /^[^\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/,
      'must be plain text on one line',
    );
}

export const HostOs = z.enum(['linux', 'darwin']);
export type HostOs = z.infer<typeof HostOs>;

export const HostMode = z.enum(['managed', 'monitor']);
export type HostMode = z.infer<typeof HostMode>;

export const DiskUsage = z.object({
  mount: plainText(1024),
  totalBytes: z.number().nonnegative(),
  freeBytes: z.number().nonnegative(),
});
export type DiskUsage = z.infer<typeof DiskUsage>;

export const OsRelease = z.object({
  id: plainText(128).nullable(),
  name: plainText(256).nullable(),
  versionId: plainText(128).nullable(),
  prettyName: plainText(256).nullable(),
});
export type OsRelease = z.infer<typeof OsRelease>;

/** Values that change all the time; they travel with every heartbeat, not as facts. */
export const Metrics = z.object({
  uptimeSeconds: z.number().nonnegative(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  memory: z.object({ totalBytes: z.number().nonnegative(), availableBytes: z.number() }),
  disks: z.array(DiskUsage).max(16),
});
export type Metrics = z.infer<typeof Metrics>;

/** Which NixOS system is running, booted and selected for the next boot (store paths). */
export const SystemState = z.object({
  current: StorePath.nullable(),
  booted: StorePath.nullable(),
  bootDefault: StorePath.nullable(),
});
export type SystemState = z.infer<typeof SystemState>;

/** One generation of the system profile (`system-<n>-link`). */
export const Generation = z.object({
  number: z.number().int().nonnegative().max(1_000_000_000),
  /** The generation's system; a rollback may deploy it, so nothing but a store path. */
  path: StorePath,
  /** When the generation was made (the link's mtime). */
  date: z.iso.datetime(),
  /** The profile points at this generation (the boot default). */
  current: z.boolean(),
});
export type Generation = z.infer<typeof Generation>;

/** macOS's memory pressure level (`kern.memorystatus_vm_pressure_level`: 1, 2, 4). */
export const MemoryPressure = z.enum(['normal', 'warn', 'critical']);
export type MemoryPressure = z.infer<typeof MemoryPressure>;

/**
 * What a macOS host reports beyond the common facts (its `os` is `darwin`): `sw_vers`,
 * the hardware, memory pressure, Nix, and the system or home-manager generation it runs.
 */
export const DarwinFacts = z.object({
  /** `sw_vers`: "macOS" (or "Mac OS X" before Big Sur), e.g. "14.6.1", "23G93". */
  productName: plainText(128).nullable(),
  productVersion: plainText(64).nullable(),
  buildVersion: plainText(64).nullable(),
  /** `hw.model`, e.g. "MacBookPro18,3". */
  model: plainText(128).nullable(),
  cpus: z.number().int().positive().max(100_000).nullable(),
  memoryPressure: MemoryPressure.nullable(),
  /** `nix --version`, e.g. "2.24.10". */
  nixVersion: plainText(128).nullable(),
  /** nix-darwin's current system (`/run/current-system`) and its `darwin-version.json`. */
  darwinSystem: z
    .object({
      path: StorePath,
      label: plainText(128).nullable(),
      revision: plainText(128).nullable(),
      configurationRevision: plainText(128).nullable(),
    })
    .nullable(),
  /** The current home-manager generation, when home-manager is used. */
  homeManager: z
    .object({
      generation: z.number().int().nonnegative().max(1_000_000_000),
      /** The generation's activation package, as `homeConfigurations.<u@h>.activationPackage` builds it. */
      path: StorePath,
      date: z.iso.datetime(),
    })
    .nullable(),
});
export type DarwinFacts = z.infer<typeof DarwinFacts>;

/**
 * What an agent knows about its host. Sent at connect and whenever a non-volatile part
 * changes; the volatile part (metrics) is refreshed by heartbeats.
 */
export const Facts = z.object({
  hostname: plainText(253),
  os: HostOs,
  kernel: plainText(256).nullable(),
  osRelease: OsRelease.nullable(),
  machineId: plainText(64).nullable(),
  bootId: plainText(64).nullable(),
  system: SystemState,
  nixosVersion: plainText(128).nullable(),
  configurationRevision: plainText(128).nullable(),
  /** Newest first; at most the last 100. */
  generations: z.array(Generation).max(100).default([]),
  /** The booted system's kernel, initrd or modules differ from the boot default's. */
  rebootRequired: z.boolean().default(false),
  /** Failed systemd units; null where there is no systemd. */
  failedUnits: z.array(plainText(256)).max(500).nullable().default(null),
  metrics: Metrics,
  /** macOS hosts only; null elsewhere. */
  darwin: DarwinFacts.nullable().default(null),
  collectedAt: z.iso.datetime(),
});
export type Facts = z.infer<typeof Facts>;
