import type { Clock } from '@flotilla/runtime';
import { generateToken, hashToken } from '../support/tokens.js';

/** How long a cache credential works: long enough for one fetch, short enough to be worthless later. */
export const CACHE_CREDENTIAL_TTL_SECONDS = 10 * 60;

/** Credentials one host may hold at once; the oldest goes first. */
const MAX_PER_HOST = 8;

export interface CacheCredentialGrant {
  token: string;
  expiresAt: string;
}

interface Held {
  host: string;
  expiresAtMs: number;
}

/**
 * Short-lived passwords for the binary cache. Nix reads `/cache` with a netrc file, so a
 * host needs a password there; instead of a long-lived one, an agent that proved its key
 * on its connection asks for one right before a fetch. Each is random (256 bits), bound to
 * its host, valid for minutes and kept only in memory, as its SHA-256: nothing to steal
 * from the disk, and a controller restart ends them all (agents ask again). Revoking or
 * removing a host ends its credentials at once.
 */
export class CacheCredentials {
  private readonly byHash = new Map<string, Held>();
  private readonly byHost = new Map<string, string[]>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlSeconds = CACHE_CREDENTIAL_TTL_SECONDS,
  ) {}

  /** A new credential for `host`'s own releases. */
  issue(host: string): CacheCredentialGrant {
    this.prune();
    const token = generateToken('fltc');
    const hash = hashToken(token);
    const expiresAtMs = this.clock.now().getTime() + this.ttlSeconds * 1000;
    this.byHash.set(hash, { host, expiresAtMs });
    const held = [...(this.byHost.get(host) ?? []), hash];
    while (held.length > MAX_PER_HOST) this.byHash.delete(held.shift() ?? '');
    this.byHost.set(host, held);
    return { token, expiresAt: new Date(expiresAtMs).toISOString() };
  }

  /** The host a credential belongs to while it is valid; undefined otherwise. */
  hostOf(token: string): string | undefined {
    const held = this.byHash.get(hashToken(token));
    if (!held) return undefined;
    return held.expiresAtMs > this.clock.now().getTime() ? held.host : undefined;
  }

  /** Ends every credential of a host (revoked, re-enrolled or removed). */
  revokeHost(host: string): void {
    for (const hash of this.byHost.get(host) ?? []) this.byHash.delete(hash);
    this.byHost.delete(host);
  }

  /** How many credentials are held (for tests). */
  get size(): number {
    return this.byHash.size;
  }

  private prune(): void {
    const now = this.clock.now().getTime();
    for (const [host, hashes] of this.byHost) {
      const live = hashes.filter((hash) => {
        const held = this.byHash.get(hash);
        if (held && held.expiresAtMs > now) return true;
        this.byHash.delete(hash);
        return false;
      });
      if (live.length === 0) this.byHost.delete(host);
      else this.byHost.set(host, live);
    }
  }
}
