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

/** True for a Nix store path (see {@link StorePath}). */
export function isStorePath(value: string): boolean {
  return StorePath.safeParse(value).success;
}
