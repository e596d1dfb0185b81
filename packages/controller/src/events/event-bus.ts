import { randomUUID } from 'node:crypto';
import type { LiveEvent } from '@flotilla/protocol';
import type { CancelTimer, Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';

/** What producers publish: every live event but `ready`, which each stream makes itself. */
export type PublishedEvent = Exclude<LiveEvent, { type: 'ready' }>;

/** An event as subscribers get it: its number on this controller's stream and its JSON, made once. */
export interface LiveMessage {
  id: number;
  event: LiveEvent;
  json: string;
}

export type LiveListener = (message: LiveMessage) => void;

/** Where a change may still be uncommitted: a `Store`, bound to a transaction or not. */
export interface CommitScope {
  afterCommit(hook: () => void): void;
}

/**
 * The producers' side of the live events: services take this, never the bus itself. A
 * change made in a transaction is published with its `Store` and reaches subscribers only
 * once that transaction committed (never when it rolled back).
 */
export interface LiveEvents {
  publish(event: PublishedEvent, scope?: CommitScope): void;
}

export interface EventBusOptions {
  clock: Clock;
  logger: Logger;
  /** `hosts.changed` is sent at most this often (ms), naming every host changed meanwhile. */
  hostsEveryMs?: number;
}

/**
 * The controller's live events, in process: producers publish, each open event stream
 * subscribes. With nobody subscribed, publishing does nothing at all; the only timer is the
 * one that coalesces `hosts.changed` while changes are pending. Numbers (the SSE ids) run
 * 1, 2, 3 … per controller process; `controllerId` is new at every start.
 */
export class EventBus implements LiveEvents {
  readonly controllerId = randomUUID();
  private readonly listeners = new Set<LiveListener>();
  private sequence = 0;
  private readonly changedHosts = new Set<string>();
  private cancelHostsTimer: CancelTimer | null = null;

  constructor(private readonly options: EventBusOptions) {}

  /** Subscribers right now (open event streams). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(event: PublishedEvent, scope?: CommitScope): void {
    if (this.listeners.size === 0) return;
    if (scope) scope.afterCommit(() => this.deliver(event));
    else this.deliver(event);
  }

  /**
   * Adds a subscriber; returns its `ready` message (to send before anything else) and the
   * function that removes it.
   */
  subscribe(listener: LiveListener): { ready: LiveMessage; unsubscribe: () => void } {
    this.listeners.add(listener);
    const ready = this.message({
      type: 'ready',
      controllerId: this.controllerId,
      at: this.options.clock.now().toISOString(),
    });
    const unsubscribe = () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      // Nobody left: no timer keeps running and nothing stays pending for the next one.
      this.cancelHostsTimer?.();
      this.cancelHostsTimer = null;
      this.changedHosts.clear();
    };
    return { ready, unsubscribe };
  }

  private deliver(event: PublishedEvent): void {
    if (this.listeners.size === 0) return;
    if (event.type !== 'hosts.changed') {
      this.emit(event);
      return;
    }
    for (const name of event.names) this.changedHosts.add(name);
    this.cancelHostsTimer ??= this.options.clock.setTimer(
      () => this.flushHosts(),
      this.options.hostsEveryMs ?? 1000,
    );
  }

  private flushHosts(): void {
    this.cancelHostsTimer = null;
    const names = [...this.changedHosts].sort();
    this.changedHosts.clear();
    if (names.length > 0) this.emit({ type: 'hosts.changed', names });
  }

  private emit(event: LiveEvent): void {
    const message = this.message(event);
    for (const listener of [...this.listeners]) {
      try {
        listener(message);
      } catch (error) {
        // A broken subscriber must not fail the change it is told about.
        this.options.logger.error({ err: error, event: event.type }, 'live event listener failed');
      }
    }
  }

  private message(event: LiveEvent): LiveMessage {
    this.sequence += 1;
    return { id: this.sequence, event, json: JSON.stringify(event) };
  }
}
