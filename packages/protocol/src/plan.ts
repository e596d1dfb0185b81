import * as z from 'zod';
import { ErrorCode } from './errors.js';
import { StorePath } from './store-path.js';

/**
 * What a deployment will change on its host, prepared by the host's agent before anyone
 * approves it: the closure difference against the system it runs (`nix store
 * diff-closures`), what activation will do (`switch-to-configuration dry-activate`) and
 * whether the new kernel or initrd needs a reboot. Shared by the agent's `plan.result`
 * and the HTTP API.
 */

/** At most this many packages in all the lists of a closure difference; the rest is cut. */
export const MAX_PLAN_PACKAGES = 2000;
/** At most this many units in each list of an activation. */
export const MAX_PLAN_UNITS = 500;
/** At most this many other lines of `dry-activate` output are kept. */
export const MAX_PLAN_OTHER_LINES = 200;

/**
 * One package whose versions or size differ between the running system's closure and the
 * new one, as `nix store diff-closures` prints it (`hello: 2.10 → 2.12, +20.0 KiB`).
 * Versions are Nix's: "" is a path without a version (Nix prints ε).
 */
export const PackageChange = z.object({
  name: z.string().min(1).max(256),
  /** Versions only in the running closure; empty when the package is new (∅). */
  from: z.array(z.string().max(128)).max(32),
  /** Versions only in the new closure; empty when the package is gone (∅). */
  to: z.array(z.string().max(128)).max(32),
  /** Bytes; null when Nix did not print it (it prints changes of 8 KiB or more). */
  sizeDelta: z.number().int().nullable(),
});
export type PackageChange = z.infer<typeof PackageChange>;

/** The closure of the new system against the running one's. */
export const ClosureDiff = z.object({
  /** Packages only in the new closure (`∅ → 1.2`). */
  added: z.array(PackageChange).max(MAX_PLAN_PACKAGES),
  /** Packages only in the running closure (`1.2 → ∅`). */
  removed: z.array(PackageChange).max(MAX_PLAN_PACKAGES),
  /** Packages in both whose versions differ (`2.10 → 2.12`). */
  changed: z.array(PackageChange).max(MAX_PLAN_PACKAGES),
  /** Packages in both with the same versions whose size changed by 8 KiB or more. */
  resized: z.array(PackageChange).max(MAX_PLAN_PACKAGES),
  /** The lists were cut at {@link MAX_PLAN_PACKAGES} entries in all. */
  truncated: z.boolean(),
  /** Bytes of the new closure minus the running one's (`nix path-info -S`); null if unknown. */
  sizeDelta: z.number().int().nullable(),
  /** Bytes of the new system's closure; null if unknown. */
  closureSize: z.number().int().nonnegative().nullable(),
});
export type ClosureDiff = z.infer<typeof ClosureDiff>;

/** A systemd unit name as switch-to-configuration prints it. */
const UnitName = z.string().min(1).max(256);
const Units = z.array(UnitName).max(MAX_PLAN_UNITS);

/**
 * What `switch-to-configuration dry-activate` says activation will do, without doing it.
 * NixOS (the Perl script and switch-to-configuration-ng alike) prints
 * `would stop|restart|start|reload the following units: a, b`, `would NOT stop the
 * following changed units: …` and `would restart systemd`; everything else it printed (the
 * activation script's own dry run) is kept in `other`.
 */
export const ActivationChanges = z.object({
  stop: Units,
  start: Units,
  restart: Units,
  reload: Units,
  /** Units that changed but are left running (`restartIfChanged = false`). */
  skip: Units,
  restartSystemd: z.boolean(),
  other: z.array(z.string().max(1000)).max(MAX_PLAN_OTHER_LINES),
  /** Its exit code (0 when it ran; dry-activate never changes anything). */
  exitCode: z.number().int().nullable(),
});
export type ActivationChanges = z.infer<typeof ActivationChanges>;

/** A boot file of a NixOS system; a change of any needs a reboot to take effect. */
export const BootFile = z.enum(['kernel', 'initrd', 'kernel-modules']);
export type BootFile = z.infer<typeof BootFile>;

/** Whether the new system needs a reboot: its kernel or initrd differ from the booted one's. */
export const RebootChange = z.object({
  /** Null when it cannot be told (no booted system known). */
  required: z.boolean().nullable(),
  /** The boot files that differ from the booted system's. */
  changed: z.array(BootFile).max(3),
  bootedSystem: StorePath.nullable(),
});
export type RebootChange = z.infer<typeof RebootChange>;

/** How long each part of the preparation took, in milliseconds. */
export const PlanTimings = z.object({
  /** Fetching the closure from the cache; 0 when it was in the store already. */
  fetchMs: z.number().int().nonnegative(),
  diffMs: z.number().int().nonnegative(),
  dryActivateMs: z.number().int().nonnegative().nullable(),
  totalMs: z.number().int().nonnegative(),
});
export type PlanTimings = z.infer<typeof PlanTimings>;

/** Everything the agent found out about a deployment before it runs. */
export const ActivationPlan = z.object({
  storePath: StorePath,
  /** The system it was compared with: the host's current system when it was prepared. */
  currentSystem: StorePath.nullable(),
  /** Null when there is no current system to compare with. */
  closure: ClosureDiff.nullable(),
  /** Null when the deployment does not activate now (action `boot`). */
  activation: ActivationChanges.nullable(),
  reboot: RebootChange,
  /** The closure had to be downloaded (false: it was in the store already). */
  fetched: z.boolean(),
  timings: PlanTimings,
  preparedAt: z.iso.datetime(),
});
export type ActivationPlan = z.infer<typeof ActivationPlan>;

/**
 * Where a deployment's plan stands on the controller: asked for (or to be asked once the
 * agent connects), ready, failed on the host, or not to be had (prefetching is off, the
 * agent is too old, the deployment ended first).
 */
export const PlanState = z.enum(['pending', 'ready', 'failed', 'unavailable']);
export type PlanState = z.infer<typeof PlanState>;

/** A deployment's plan as the API shows it. */
export const DeploymentPlan = z.object({
  deploymentId: z.string(),
  host: z.string(),
  state: PlanState,
  /** Why it failed or is unavailable, or what a pending plan waits for. */
  reason: z.string().nullable(),
  /** The stable code of a failure or of unavailability (e.g. `fetch_failed`). */
  code: ErrorCode.nullable(),
  plan: ActivationPlan.nullable(),
  /** When the agent was last asked; null when it was not yet. */
  requestedAt: z.string().nullable(),
  updatedAt: z.string(),
});
export type DeploymentPlan = z.infer<typeof DeploymentPlan>;
