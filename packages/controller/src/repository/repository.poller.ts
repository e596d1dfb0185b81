import type { SyncReason } from '@flotilla/protocol';

export interface SyncPollerOptions {
  /** Seconds between polls, read before each wait; undefined while nothing is linked. */
  intervalSeconds: () => Promise<number | undefined>;
  /** Runs one sync; must not reject (the caller logs its own failures). */
  sync: (reason: SyncReason) => Promise<void>;
}

/**
 * Polls the remote: one sync at start, then one every interval after the previous one
 * finished (so a slow fetch never stacks up). The timer is unref'd: it never keeps the
 * process alive by itself.
 */
export class SyncPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly options: SyncPollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick('startup');
  }

  /** Restarts the wait, e.g. after the link (and its interval) changed. */
  reschedule(): void {
    if (this.running) this.loop = this.loop.then(() => this.schedule()).catch(ignore);
  }

  /** Stops polling; a sync in progress is awaited by its owner, not here. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(reason: SyncReason): void {
    this.loop = this.loop
      .then(async () => {
        await this.options.sync(reason);
        await this.schedule();
      })
      // A failed interval read (database away) must not end polling for good.
      .catch(() => this.schedule().catch(ignore));
  }

  private async schedule(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const seconds = await this.options.intervalSeconds();
    if (seconds === undefined || !this.running) return;
    this.timer = setTimeout(() => this.tick('poll'), seconds * 1000);
    this.timer.unref();
  }
}

function ignore(): void {}
