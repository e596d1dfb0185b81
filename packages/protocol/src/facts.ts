import { z } from 'zod';

export const HostOs = z.enum(['linux', 'darwin']);
export type HostOs = z.infer<typeof HostOs>;

export const HostMode = z.enum(['managed', 'monitor']);
export type HostMode = z.infer<typeof HostMode>;

export const DiskUsage = z.object({
  mount: z.string(),
  totalBytes: z.number().nonnegative(),
  freeBytes: z.number().nonnegative(),
});
export type DiskUsage = z.infer<typeof DiskUsage>;

export const OsRelease = z.object({
  id: z.string().nullable(),
  name: z.string().nullable(),
  versionId: z.string().nullable(),
  prettyName: z.string().nullable(),
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
  current: z.string().nullable(),
  booted: z.string().nullable(),
  bootDefault: z.string().nullable(),
});
export type SystemState = z.infer<typeof SystemState>;

/** One generation of the system profile (`system-<n>-link`). */
export const Generation = z.object({
  number: z.number().int().nonnegative(),
  path: z.string(),
  /** When the generation was made (the link's mtime). */
  date: z.iso.datetime(),
  /** The profile points at this generation (the boot default). */
  current: z.boolean(),
});
export type Generation = z.infer<typeof Generation>;

/**
 * What an agent knows about its host. Sent at connect and whenever a non-volatile part
 * changes; the volatile part (metrics) is refreshed by heartbeats.
 */
export const Facts = z.object({
  hostname: z.string(),
  os: HostOs,
  kernel: z.string().nullable(),
  osRelease: OsRelease.nullable(),
  machineId: z.string().nullable(),
  bootId: z.string().nullable(),
  system: SystemState,
  nixosVersion: z.string().nullable(),
  configurationRevision: z.string().nullable(),
  /** Newest first; at most the last 100. */
  generations: z.array(Generation).max(100).default([]),
  /** The booted system's kernel, initrd or modules differ from the boot default's. */
  rebootRequired: z.boolean().default(false),
  /** Failed systemd units; null where there is no systemd. */
  failedUnits: z.array(z.string()).max(500).nullable().default(null),
  metrics: Metrics,
  collectedAt: z.iso.datetime(),
});
export type Facts = z.infer<typeof Facts>;
