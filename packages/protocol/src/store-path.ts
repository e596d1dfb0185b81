import * as z from 'zod';

/**
 * A Nix store path (`/nix/store/<32-char hash>-<name>`, the hash in Nix's base32, which has
 * no e, o, u or t); nothing else may be deployed, reported as a system or handed to Nix.
 * A name never starts with `.` (Nix refuses such names), so no path can climb out of the store.
 */
export const StorePath = z
  .string()
  .max(400)
  .regex(
    /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]*$/,
    'must be a Nix store path',
  );
export type StorePath = z.infer<typeof StorePath>;

/**
 * A store path that can be deployed: never a derivation (`.drv`). Nix "realises" a
 * derivation by building it, so an agent handed one could be made to build whatever it
 * describes before any signature of a system was checked.
 */
export const SystemPath = StorePath.refine((path) => !path.endsWith('.drv'), {
  message: 'must be a system, not a derivation (.drv)',
});
export type SystemPath = z.infer<typeof SystemPath>;

/** True for a Nix store path (see {@link StorePath}). */
export function isStorePath(value: string): boolean {
  return StorePath.safeParse(value).success;
}
