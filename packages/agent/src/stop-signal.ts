import type { Clock } from '@flotilla/runtime';

/** Thrown out of waits when the agent is stopping; the work resumes after the next start. */
export class StoppedError extends Error {
  constructor() {
    super('the agent is stopping');
    this.name = 'StoppedError';
  }
}

/** Waits `delayMs` on `clock`; rejects with {@link StoppedError} as soon as `signal` fires. */
export function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new StoppedError());
    const onAbort = () => {
      cancel();
      reject(new StoppedError());
    };
    const cancel = clock.setTimer(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
