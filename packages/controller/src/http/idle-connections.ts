import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Lets a stop finish at once however clients left their connections: when the server closes,
 * every connection with no request in flight is destroyed, and each other one as soon as its
 * last answer is sent.
 *
 * Node's `server.close()` (and Fastify's `forceCloseConnections: 'idle'`) closes only
 * connections it counts as idle, and a connection that was opened but never sent a request —
 * what browsers and fetch open ahead of need, and again when a request is aborted, as an
 * EventSource's is on every reconnect — does not count: the stop would wait for its headers
 * timeout (60 s). Upgraded connections (the agents' WebSockets) are the gateway's to close.
 */
export function closeIdleConnectionsOnClose(app: FastifyInstance): void {
  const server: Server = app.server;
  /** Each open connection and how many of its requests are not answered yet. */
  const inFlight = new Map<Socket, number>();
  let closing = false;

  server.on('connection', (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (request: { socket: Socket }, response: ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });
  server.on('upgrade', (_request: unknown, socket: Socket) => inFlight.delete(socket));

  app.addHook('preClose', async () => {
    closing = true;
    for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
  });
}
