import type { ServerResponse } from 'node:http';
import { api, LIVE_EVENTS_KEEPALIVE_MS, LIVE_EVENTS_RETRY_MS } from '@flotilla/protocol';
import type { CancelTimer, Clock } from '@flotilla/runtime';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventBus, LiveMessage } from '../events/event-bus.js';
import { routeConfig, type ApiRoutes } from './route.js';

/** Events a subscriber may have waiting while its connection cannot take more; one more cuts it off. */
export const MAX_QUEUED_EVENTS = 1000;

export interface EventStreamOptions {
  bus: EventBus;
  clock: Clock;
  /**
   * Whether the caller may still read (checked with each keepalive): a stream outlives
   * neither a logout, nor a revoked token, nor a disabled user by more than one interval.
   */
  stillAllowed: (request: FastifyRequest) => Promise<boolean>;
}

/**
 * `GET /api/v1/events`: the live events as server-sent events (see `@flotilla/protocol`'s
 * events.ts). Access is the contract's, checked before this handler runs, so a refused
 * caller gets an error answer and no stream. A subscriber that falls more than
 * {@link MAX_QUEUED_EVENTS} events behind is disconnected (its browser reconnects and
 * refetches); closing the connection unsubscribes it. The controller ends every stream when
 * it shuts down.
 */
export function registerEventStream(
  app: FastifyInstance,
  routes: ApiRoutes,
  options: EventStreamOptions,
): void {
  const open = new Set<EventStreamConnection>();
  routes.claim('events');
  app.route({
    method: api.events.method,
    url: api.events.path,
    config: routeConfig('events'),
    // A HEAD would hold a stream open for nothing.
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      reply.hijack();
      // Gone while it was being authenticated: no 'close' will come to unsubscribe it.
      if (request.socket.destroyed) {
        reply.raw.destroy();
        return;
      }
      const connection = new EventStreamConnection(reply.raw, request, options, () =>
        open.delete(connection),
      );
      open.add(connection);
    },
  });
  app.addHook('preClose', async () => {
    // Dropped, not ended: a client that stopped reading must not hold the shutdown up.
    for (const connection of [...open]) connection.drop();
  });
}

/** One subscriber: its socket, what waits for room in it, and its keepalive. */
class EventStreamConnection {
  private readonly queued: string[] = [];
  private blocked = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private cancelKeepalive: CancelTimer | null = null;

  constructor(
    private readonly raw: ServerResponse,
    private readonly request: FastifyRequest,
    private readonly options: EventStreamOptions,
    private readonly onClosed: () => void,
  ) {
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      // The stream is the connection's last answer: when it ends, the connection goes too.
      connection: 'close',
    });
    raw.on('drain', () => this.drain());
    raw.on('close', () => this.close());
    const { ready, unsubscribe } = options.bus.subscribe((message) => this.send(message));
    this.unsubscribe = unsubscribe;
    this.write(`retry: ${LIVE_EVENTS_RETRY_MS}\n\n`);
    this.send(ready);
    this.scheduleKeepalive();
  }

  /** Ends the stream (the client closed it, or the caller may no longer read). */
  close(): void {
    this.finish(() => this.raw.end());
  }

  /** Ends the stream and its connection at once (the controller stops). */
  drop(): void {
    this.finish(() => this.raw.destroy());
  }

  private finish(end: () => void): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.cancelKeepalive?.();
    this.queued.length = 0;
    this.onClosed();
    end();
  }

  private send(message: LiveMessage): void {
    this.write(`id: ${message.id}\nevent: ${message.event.type}\ndata: ${message.json}\n\n`);
  }

  private write(frame: string): void {
    if (this.closed) return;
    if (!this.blocked) {
      this.blocked = !this.raw.write(frame);
      return;
    }
    if (this.queued.length >= MAX_QUEUED_EVENTS) {
      this.request.log.info(
        { address: this.request.ip, queued: this.queued.length },
        'event stream subscriber too slow; disconnected',
      );
      // Nothing more is written to a client this far behind: the connection goes at once.
      this.drop();
      return;
    }
    this.queued.push(frame);
  }

  /** The socket took what it had: send what waited, until it is full again. */
  private drain(): void {
    this.blocked = false;
    while (!this.blocked) {
      const frame = this.queued.shift();
      if (frame === undefined) return;
      this.blocked = !this.raw.write(frame);
    }
  }

  private scheduleKeepalive(): void {
    this.cancelKeepalive = this.options.clock.setTimer(
      () => void this.keepalive(),
      LIVE_EVENTS_KEEPALIVE_MS,
    );
  }

  private async keepalive(): Promise<void> {
    this.cancelKeepalive = null;
    if (this.closed) return;
    const allowed = await this.options.stillAllowed(this.request).catch(() => false);
    if (this.closed) return;
    if (!allowed) {
      this.close();
      return;
    }
    this.write(': keepalive\n\n');
    this.scheduleKeepalive();
  }
}
