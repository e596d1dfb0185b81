import { watch, type FSWatcher } from 'node:fs';
import type { Clock } from '@flotilla/runtime';
import { StoppedError } from '../stop-signal.js';

/**
 * Wakes whoever follows an activation as soon as anything in its folder changes (inotify
 * on Linux): the runner's log growing, its pid and result files created and written.
 * Where the folder cannot be watched, waits simply last their fallback time.
 */
export class DirectoryWatch {
  private readonly watcher: FSWatcher | null;
  /** A change came since the last wait began: the next wait returns at once. */
  private changed = false;
  private wake: (() => void) | null = null;

  constructor(dir: string) {
    let watcher: FSWatcher | null = null;
    try {
      // Not persistent: a watch must never keep a stopping agent alive.
      watcher = watch(dir, { persistent: false }, () => this.notify());
      watcher.on('error', () => this.close());
    } catch {
      watcher = null;
    }
    this.watcher = watcher;
  }

  /**
   * Resolves at the next change (at once when one came since the previous wait) or after
   * `fallbackMs` on `clock`, whichever is first; rejects with {@link StoppedError} when
   * `signal` fires.
   */
  wait(clock: Clock, fallbackMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new StoppedError());
      if (this.changed) {
        this.changed = false;
        return resolve();
      }
      const settle = (error?: Error) => {
        cancel();
        signal.removeEventListener('abort', onAbort);
        this.wake = null;
        this.changed = false;
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => settle(new StoppedError());
      const cancel = clock.setTimer(() => settle(), fallbackMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => settle();
    });
  }

  close(): void {
    this.watcher?.close();
  }

  private notify(): void {
    this.changed = true;
    this.wake?.();
  }
}
