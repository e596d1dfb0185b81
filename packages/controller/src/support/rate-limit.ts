import { FlotillaError } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';

/** How many failures lock a client out, and for how long. */
export interface FailureLimitPolicy {
  /** Failures allowed within `windowMs`; the next one starts a lockout. */
  maxFailures: number;
  windowMs: number;
  /** The first lockout; each further one doubles, up to `maxLockoutMs`. */
  lockoutMs: number;
  maxLockoutMs: number;
  /** Clients remembered at most; the least recently failing are forgotten first. */
  maxTracked?: number;
}

interface ClientState {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  /** Lockouts in a row, for the backoff; forgotten after a quiet `maxLockoutMs`. */
  lockouts: number;
  lastFailure: number;
}

/**
 * Locks a client (by address, or any key) out after repeated failures, with exponential
 * backoff: `maxFailures` within `windowMs` lock it out for `lockoutMs`, the next lockout
 * for twice that, up to `maxLockoutMs`. In memory, bounded, and cheap for clients that
 * never fail (they are not tracked).
 *
 * Use it around anything that checks a secret:
 *
 * ```ts
 * limiter.check(request.ip);            // throws rate_limited while locked out
 * if (!valid) { limiter.fail(request.ip); throw unauthorized; }
 * limiter.succeed(request.ip);          // optional: forgets earlier failures
 * ```
 */
export class FailureLimiter {
  private readonly clients = new Map<string, ClientState>();

  constructor(
    private readonly policy: FailureLimitPolicy,
    private readonly clock: Clock,
  ) {}

  /** Seconds until `key` may try again, or 0 when it is not locked out. */
  retryAfterSeconds(key: string): number {
    const state = this.clients.get(key);
    const now = this.clock.now().getTime();
    if (!state || state.lockedUntil <= now) return 0;
    return Math.ceil((state.lockedUntil - now) / 1000);
  }

  /** Throws `rate_limited` (with `retryAfterSeconds` in its details) while `key` is locked out. */
  check(key: string): void {
    const retryAfterSeconds = this.retryAfterSeconds(key);
    if (retryAfterSeconds > 0) throw rateLimited(retryAfterSeconds);
  }

  /** Counts a failure of `key`; returns the lockout it started, in seconds, or 0. */
  fail(key: string): number {
    const { maxFailures, windowMs, lockoutMs, maxLockoutMs } = this.policy;
    const now = this.clock.now().getTime();
    let state = this.clients.get(key);
    if (state) this.clients.delete(key); // re-inserted below: most recent last
    if (!state || now - state.lastFailure > maxLockoutMs + windowMs) {
      state = { failures: 0, windowStart: now, lockedUntil: 0, lockouts: 0, lastFailure: now };
    }
    if (now - state.windowStart > windowMs) {
      state.failures = 0;
      state.windowStart = now;
    }
    state.failures += 1;
    state.lastFailure = now;
    let started = 0;
    if (state.failures > maxFailures) {
      started = Math.min(lockoutMs * 2 ** state.lockouts, maxLockoutMs);
      state.lockouts += 1;
      state.lockedUntil = now + started;
      state.failures = 0;
      state.windowStart = now;
    }
    this.clients.set(key, state);
    this.evict();
    return Math.ceil(started / 1000);
  }

  /** Forgets the failures of `key` (after it proved itself). */
  succeed(key: string): void {
    const state = this.clients.get(key);
    if (state && state.lockedUntil <= this.clock.now().getTime()) this.clients.delete(key);
  }

  /** Clients tracked now (for tests and metrics). */
  get size(): number {
    return this.clients.size;
  }

  private evict(): void {
    const max = this.policy.maxTracked ?? 10_000;
    for (const key of this.clients.keys()) {
      if (this.clients.size <= max) return;
      this.clients.delete(key);
    }
  }
}

/** The error of a refused attempt: HTTP 429 with `Retry-After`. */
export function rateLimited(
  retryAfterSeconds: number,
  what = 'too many failed attempts',
): FlotillaError {
  return new FlotillaError(
    'rate_limited',
    `${what} from this address; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}

/**
 * Caps concurrent connections: per client address and in total. `acquire` returns a
 * release function, or undefined when a cap is reached.
 */
export class ConnectionLimiter {
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(private readonly caps: { perAddress: number; total: number }) {}

  acquire(address: string): (() => void) | undefined {
    const current = this.perAddress.get(address) ?? 0;
    if (this.total >= this.caps.total || current >= this.caps.perAddress) return undefined;
    this.perAddress.set(address, current + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
  }

  /** Connections held now. */
  get count(): number {
    return this.total;
  }
}
