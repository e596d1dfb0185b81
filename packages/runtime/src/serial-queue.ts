/**
 * Runs async jobs one after another, in the order they were added. Git operations on one
 * mirror go through one queue: concurrent fetches would fight over ref locks, and a re-link
 * must not interleave with a sync that still works on the old link.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job added so far has settled. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }
}
