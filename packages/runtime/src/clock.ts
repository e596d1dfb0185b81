/** Cancels a timer started with {@link Clock.setTimer}; calling it twice is harmless. */
export type CancelTimer = () => void;

/** Time, injected so that time-based rules (soak, windows, expiry, retries) can be tested. */
export interface Clock {
  now(): Date;
  /** Runs `callback` once after `delayMs` milliseconds. */
  setTimer(callback: () => void, delayMs: number): CancelTimer;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

/**
 * A clock that only moves when told to, for tests of time-based rules: `advance` runs the
 * timers that fall due, in order.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: { at: number; seq: number; callback: () => void }[] = [];
  private seq = 0;

  constructor(start: Date | string | number = '2026-01-05T10:00:00.000Z') {
    this.current = new Date(start).getTime();
  }

  /** The time in milliseconds; setting it moves the clock without running timers. */
  get ms(): number {
    return this.current;
  }

  set ms(value: number) {
    this.current = value;
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(callback: () => void, delayMs: number): CancelTimer {
    const timer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, running each timer that falls due at its own time. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = target;
  }

  /** Sets the time (forward or back) without running timers. */
  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
}
