/**
 * Runs an async task at most once at a time, coalescing requests: a request while a run is
 * in progress schedules exactly one more run after it (its input may have changed since the
 * running one started), and every request made meanwhile shares that next run's promise.
 * Used so that duplicate webhooks and polls for the same commit do the work once.
 */
export class CoalescingRunner<A, T> {
  private current: Promise<T> | undefined;
  private next: Promise<T> | undefined;

  constructor(private readonly task: (argument: A) => Promise<T>) {}

  /** Runs now, or joins the run queued behind the current one. */
  run(argument: A): Promise<T> {
    if (this.next !== undefined) return this.next;
    const running = this.current;
    if (running === undefined) return this.start(argument);
    const next = running.then(ignore, ignore).then(() => {
      // From here the queued run is the current one; new requests queue behind it.
      this.next = undefined;
      return this.start(argument);
    });
    this.next = next;
    return next;
  }

  /** Resolves when no run is in progress or queued (failures are the callers' to handle). */
  async idle(): Promise<void> {
    while (this.current !== undefined || this.next !== undefined) {
      await (this.next ?? this.current)?.then(ignore, ignore);
    }
  }

  private start(argument: A): Promise<T> {
    const promise: Promise<T> = this.task(argument).finally(() => {
      if (this.current === promise) this.current = undefined;
    });
    this.current = promise;
    return promise;
  }
}

function ignore(): void {}
