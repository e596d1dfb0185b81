import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_MESSAGE_BYTES } from '@flotilla/protocol';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { CacheCredentials } from '../cache/cache-credentials.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { PlanService } from '../plans/plan.service.js';
import type { HostIdentityService } from '../hosts/host-identity.service.js';
import type { RebootService } from '../hosts/reboot.service.js';
import type { PresenceService } from '../hosts/presence.service.js';
import type { ConnectionLimiter, FailureLimiter } from '../support/rate-limit.js';
import type { TrustedProxies } from '../support/trusted-proxies.js';
import { agentBaseUrl, agentOrigins } from './agent-base-url.js';
import { AgentSession } from './agent.session.js';

export const AGENT_GATEWAY_PATH = '/api/v1/agent/ws';

export interface AgentGatewayOptions {
  identity: Pick<HostIdentityService, 'authenticate' | 'isCurrent'>;
  cacheCredentials: Pick<CacheCredentials, 'issue'>;
  /** `config.publicUrl`: an origin agents may have dialled besides the Host header's. */
  publicUrl: string | undefined;
  presence: PresenceService;
  runner: DeploymentRunner;
  plans: PlanService;
  reboots: RebootService;
  logger: Logger;
  heartbeatIntervalSeconds: number;
  /** Gives the client address behind the configured proxies. */
  trustedProxies: TrustedProxies;
  /** Failed authentications per client address (refused hellos; shared with the binary cache). */
  failures: FailureLimiter;
  /** Connections open at once, per client address and in all (from upgrade to close). */
  connections: ConnectionLimiter;
}

/**
 * Accepts agent WebSocket connections on the API's HTTP server. No secret travels at the
 * upgrade: each connection starts with a challenge the agent must sign with its enrolled
 * key (see AgentSession); a socket that does not answer within the hello timeout is closed.
 */
export class AgentGateway {
  /**
   * Frames up to 4× the protocol limit are read and answered with `message_too_large`;
   * anything larger is cut off by the WebSocket layer (close code 1009).
   */
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES * 4,
    perMessageDeflate: false,
  });

  constructor(private readonly options: AgentGatewayOptions) {}

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(request, socket, head);
    });
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /** Closes every agent connection (agents reconnect to the next controller). */
  close(): Promise<void> {
    for (const client of this.wss.clients) client.close(1001, 'controller shutting down');
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { logger, failures, connections } = this.options;
    const path = (request.url ?? '').split('?')[0];
    if (path !== AGENT_GATEWAY_PATH) {
      return refuse(socket, 404, 'not_found', `no WebSocket endpoint at ${path}`);
    }
    const client = this.options.trustedProxies.clientAddress(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
    );
    // Counted from the upgrade request to the socket's end, the signed hello included.
    const release = connections.acquire(client);
    if (!release) {
      logger.warn({ client, open: connections.count }, 'agent connection over the cap refused');
      return refuse(socket, 429, 'rate_limited', 'too many agent connections', 30);
    }
    socket.once('close', release);
    const retryAfter = failures.retryAfterSeconds(client);
    if (retryAfter > 0) {
      return refuse(socket, 429, 'rate_limited', 'too many failed attempts', retryAfter);
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      new AgentSession({
        socket: ws,
        identity: this.options.identity,
        origins: agentOrigins(request.headers, this.options.publicUrl),
        remoteAddress: client,
        authenticationFailed: () => failures.fail(client),
        cacheCredential: (host) => this.options.cacheCredentials.issue(host),
        presence: this.options.presence,
        runner: this.options.runner,
        plans: this.options.plans,
        reboots: this.options.reboots,
        logger,
        heartbeatIntervalSeconds: this.options.heartbeatIntervalSeconds,
        maxMessageBytes: MAX_MESSAGE_BYTES,
        helloTimeoutMs: 10_000,
        baseUrl: agentBaseUrl(request.headers),
      }).start();
    });
  }
}

/** Answers an upgrade request with a plain HTTP error carrying the usual error body. */
function refuse(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  retryAfterSeconds?: number,
): void {
  const details = retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } };
  const body = JSON.stringify({ error: { code, message, ...details } });
  const reason =
    {
      401: 'Unauthorized',
      404: 'Not Found',
      429: 'Too Many Requests',
      503: 'Service Unavailable',
    }[status] ?? 'Error';
  const retry = retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n${retry}` +
      'X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
