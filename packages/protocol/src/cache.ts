import * as z from 'zod';

/** Where the controller's binary cache is served, relative to the controller's base URL. */
export const CACHE_PATH = '/cache';

/**
 * The controller's binary cache as shown to admins (`GET /api/v1/cache`). Each agent's own
 * config pins `publicKey` (its `trustedPublicKeys`); deploy requests carry only the URL.
 */
export const CacheInfo = z.object({
  /** `name:base64` as written in Nix's `trusted-public-keys`. */
  publicKey: z.string().min(1),
  /** Path of the cache under the controller's base URL (`/cache`). */
  path: z.string().min(1),
  /** The store URL release closures are also pushed to, credentials removed; null when none. */
  pushTo: z.string().nullable(),
});
export type CacheInfo = z.infer<typeof CacheInfo>;
