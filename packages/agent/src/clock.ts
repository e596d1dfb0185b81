/** Cancels a timer started with {@link Clock.setTimer}; calling it twice is harmless. */
export type CancelTimer = () => void;

/** Time as the agent sees it; injected so batching and retry policies can be tested. */
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
