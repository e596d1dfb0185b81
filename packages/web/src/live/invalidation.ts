import { queryKeys, type QueryKey } from '../api/query-keys.js';
import type { LiveEvent } from './live-event.js';

/** The query keys an event makes stale; `deployment.log` lines are appended, not refetched. */
export function keysFor(event: LiveEvent): QueryKey[] {
  switch (event.type) {
    case 'ready':
    case 'deployment.log':
      return [];
    case 'hosts.changed':
      return [queryKeys.hosts, queryKeys.overview, ...event.names.map(queryKeys.host)];
    case 'deployment.changed':
      return [
        queryKeys.deployments,
        queryKeys.deployment(event.id),
        queryKeys.host(event.host),
        queryKeys.approvals,
        queryKeys.overview,
      ];
    case 'build.changed':
      return [queryKeys.builds, queryKeys.build(event.id), queryKeys.overview];
    case 'approvals.changed':
      return [queryKeys.approvals, queryKeys.overview];
    case 'releases.changed':
      return [queryKeys.releases, queryKeys.overview];
    case 'rollout.changed':
      return [queryKeys.rollouts, queryKeys.rollout(event.id)];
    case 'repository.changed':
      return [queryKeys.repository, queryKeys.revisions, queryKeys.overview, queryKeys.editorHead];
    case 'drafts.changed':
      return [queryKeys.drafts];
  }
}

/** Timers, injectable so tests run on a clock of their own. */
export interface Timers {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Coalesces invalidations: a key is handed to `flush` at most once per `intervalMs`, however
 * many events name it; a key named again within that second waits for the rest of it, so a
 * burst of 500 `hosts.changed` events costs one refetch of the overview a second. Keys due
 * together are flushed in one call after a short `batchMs` window.
 */
export class InvalidationCoalescer {
  readonly #pending = new Map<string, { key: QueryKey; due: number }>();
  readonly #lastFlushed = new Map<string, number>();
  #timer: unknown = null;
  #timerDue = Infinity;

  constructor(
    private readonly flush: (keys: QueryKey[]) => void,
    private readonly timers: Timers = browserTimers,
    private readonly intervalMs = 1000,
    private readonly batchMs = 50,
  ) {}

  add(keys: readonly QueryKey[]): void {
    const now = this.timers.now();
    for (const key of keys) {
      const id = JSON.stringify(key);
      if (this.#pending.has(id)) continue;
      const last = this.#lastFlushed.get(id);
      const due = Math.max(now + this.batchMs, last === undefined ? 0 : last + this.intervalMs);
      this.#pending.set(id, { key, due });
    }
    this.#schedule();
  }

  /** Drops everything pending (the caller invalidates all at once instead). */
  clear(): void {
    this.#pending.clear();
    if (this.#timer !== null) this.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerDue = Infinity;
  }

  #schedule(): void {
    let earliest = Infinity;
    for (const { due } of this.#pending.values()) earliest = Math.min(earliest, due);
    if (earliest === Infinity || earliest >= this.#timerDue) return;
    if (this.#timer !== null) this.timers.clearTimeout(this.#timer);
    this.#timerDue = earliest;
    this.#timer = this.timers.setTimeout(
      () => this.#run(),
      Math.max(0, earliest - this.timers.now()),
    );
  }

  #run(): void {
    this.#timer = null;
    this.#timerDue = Infinity;
    const now = this.timers.now();
    const due: QueryKey[] = [];
    for (const [id, entry] of this.#pending) {
      if (entry.due > now) continue;
      due.push(entry.key);
      this.#pending.delete(id);
      this.#lastFlushed.set(id, now);
    }
    if (due.length > 0) this.flush(due);
    this.#schedule();
  }
}
