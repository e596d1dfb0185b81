import type { QueryKey } from '../api/query-keys.js';
import { browserTimers, InvalidationCoalescer, keysFor, type Timers } from './invalidation.js';
import { LIVE_EVENT_TYPES, LiveEvent } from './live-event.js';

/** Where the stream stands, for the header's indicator and for polling when it is not live. */
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

/** The part of `EventSource` used here, so tests can hand in their own. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(): void;
}

export interface LiveEventsOptions {
  url: string;
  /** Marks these query keys stale (TanStack Query's `invalidateQueries`). */
  invalidate: (keys: QueryKey[]) => void;
  /** Marks every query stale: after a reconnect or a controller restart. */
  invalidateAll: () => void;
  /** The stream was refused with 401: the session ended. */
  onUnauthorized?: () => void;
  createSource?: (url: string) => EventSourceLike;
  /** The HTTP status the stream's URL answers, or null when nothing answered. */
  probe?: (url: string) => Promise<number | null>;
  timers?: Timers;
}

const CLOSED = 2;
/** After a 404 (a controller without the stream), ask again this rarely. */
const UNAVAILABLE_RETRY_MS = 5 * 60_000;
const MIN_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

/**
 * One live-event stream per tab (`GET /api/v1/events`): each event marks the queries it
 * changes stale, coalesced to at most one refetch per key a second; `deployment.log` lines
 * go to the listeners of {@link onEvent} (an open log view appends them). After every
 * reconnect, and when `ready` names another controller (a restart), everything is
 * refetched, since events missed in between are not replayed. The browser reconnects by
 * itself after a dropped connection; an answer that is not a stream (404 from a controller
 * without it, 401, 5xx) closes it for good, and then this class tries again with backoff —
 * every 5 minutes after a 404 — so a missing endpoint costs nothing and causes no storm.
 */
export class LiveEvents {
  readonly #options: LiveEventsOptions;
  readonly #timers: Timers;
  readonly #coalescer: InvalidationCoalescer;
  readonly #listeners = new Set<(event: LiveEvent) => void>();
  readonly #statusListeners = new Set<(status: LiveStatus) => void>();
  #source: EventSourceLike | null = null;
  #retryTimer: unknown = null;
  #failures = 0;
  #opened = false;
  #controllerId: string | null = null;
  #status: LiveStatus = 'connecting';
  #stopped = false;

  constructor(options: LiveEventsOptions) {
    this.#options = options;
    this.#timers = options.timers ?? browserTimers;
    this.#coalescer = new InvalidationCoalescer(options.invalidate, this.#timers);
  }

  get status(): LiveStatus {
    return this.#status;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#source?.close();
    this.#source = null;
    if (this.#retryTimer !== null) this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#coalescer.clear();
  }

  /** Calls `listener` with every event (after its invalidations are queued); returns an unsubscribe. */
  onEvent(listener: (event: LiveEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  #setStatus(status: LiveStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener(status);
  }

  #connect(): void {
    if (this.#stopped) return;
    const create = this.#options.createSource ?? ((url: string) => new EventSource(url));
    const source = create(this.#options.url);
    this.#source = source;
    source.addEventListener('open', () => {
      this.#failures = 0;
      this.#setStatus('live');
      // Events may have been missed while away: everything shown is refetched.
      if (this.#opened) this.#resync();
      this.#opened = true;
    });
    source.addEventListener('error', () => {
      if (this.#source !== source) return;
      if (source.readyState !== CLOSED) {
        this.#setStatus('reconnecting');
        return;
      }
      source.close();
      this.#source = null;
      void this.#afterRefusal();
    });
    for (const type of LIVE_EVENT_TYPES) {
      source.addEventListener(type, (message) => this.#receive(String(message.data)));
    }
  }

  #receive(data: string): void {
    let parsed: ReturnType<typeof LiveEvent.safeParse>;
    try {
      parsed = LiveEvent.safeParse(JSON.parse(data));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const event = parsed.data;
    if (event.type === 'ready') {
      const restarted = this.#controllerId !== null && this.#controllerId !== event.controllerId;
      this.#controllerId = event.controllerId;
      if (restarted) this.#resync();
    }
    this.#coalescer.add(keysFor(event));
    for (const listener of this.#listeners) listener(event);
  }

  #resync(): void {
    this.#coalescer.clear();
    this.#options.invalidateAll();
  }

  /** The stream was answered with something else than a stream: find out what, then wait. */
  async #afterRefusal(): Promise<void> {
    const probe = this.#options.probe ?? probeStatus;
    const status = await probe(this.#options.url);
    if (this.#stopped) return;
    if (status === 401) this.#options.onUnauthorized?.();
    this.#failures += 1;
    const backoff = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** (this.#failures - 1));
    const wait = status === 404 ? UNAVAILABLE_RETRY_MS : backoff;
    this.#setStatus(status === 404 ? 'unavailable' : 'reconnecting');
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, wait);
  }
}

/** The status the URL answers, reading no body (a stream that opens is cancelled at once). */
async function probeStatus(url: string): Promise<number | null> {
  const controller = new AbortController();
  try {
    const response = await fetch(url, {
      credentials: 'same-origin',
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    controller.abort();
    return response.status;
  } catch {
    return null;
  }
}
