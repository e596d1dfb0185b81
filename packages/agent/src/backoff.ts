export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. */
  baseMs: number;
  /** No delay exceeds this, in milliseconds. */
  capMs: number;
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry): "full jitter", a uniform
 * random value in [0, min(cap, base·2^attempt)). Jitter spreads a fleet that lost its
 * controller at the same moment, so the controller is not hit by every agent at once.
 * `random` returns a value in [0, 1), like Math.random.
 */
export function fullJitterDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  // Clamp the exponent: 2^1100 is Infinity, and the cap is reached long before anyway.
  const exponent = Math.min(Math.max(attempt, 0), 50);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/**
 * Delay used after the controller refused the agent for a reason a retry soon will not fix
 * (bad token, protocol mismatch): between half the cap and the cap, so a misconfigured agent
 * neither hammers the controller nor gives up.
 */
export function cappedDelayMs(options: BackoffOptions, random: () => number): number {
  return Math.floor(options.capMs / 2 + (random() * options.capMs) / 2);
}

/** Counts consecutive failed connections and turns them into delays. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    return fullJitterDelayMs(this.attempt++, this.options, this.random);
  }

  /** The delay after a refusal that only an operator can fix. */
  capped(): number {
    this.attempt++;
    return cappedDelayMs(this.options, this.random);
  }

  /** Forget past failures, after a connection stayed up long enough to count as healthy. */
  reset(): void {
    this.attempt = 0;
  }
}
