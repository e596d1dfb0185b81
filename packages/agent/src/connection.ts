import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  agentAuthPayload,
  PROTOCOL_VERSION,
  type ErrorBody,
  parseControllerMessage,
  protocolMismatchMessage,
  type AgentMessage,
  type CacheCredential,
  type Challenge,
  type DeployConfirm,
  type DeployRequest,
  type ErrorMessage,
  type Hello,
  type PlanRequest,
  type RebootRequest,
  type Welcome,
} from '@flotilla/protocol';
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from './backoff.js';
import { systemClock, type CancelTimer, type Clock } from '@flotilla/runtime';
import type { MessageSink } from './deploy/deployment-outbox.js';
import type { Logger } from '@flotilla/runtime';
import { controllerHttpOrigin } from './controller-origin.js';
import type { TlsOptions } from './identity/controller-tls.js';
import { explainControllerError, explainRejectedUpgrade, readErrorBody } from './refusals.js';

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** The controller accepted the hello; messages may be sent until `onDown`. */
  onReady(welcome: Welcome): void;
  onDeployRequest(request: DeployRequest): void;
  /** The controller confirms a deployment waiting in `confirming`. */
  onDeployConfirm(deploymentId: string): void;
  onRebootRequest(request: RebootRequest): void;
  /** The controller asks to prepare a waiting deployment (prefetch and plan). */
  onPlanRequest(request: PlanRequest): void;
  /** The controller has stored the result of this deployment. */
  onResultAcknowledged(deploymentId: string): void;
  /** A connection that was ready has ended; a new one is being attempted. */
  onDown(): void;
}

/** The agent's enrolled key, as the connection uses it: to answer each challenge. */
export interface ConnectionIdentity {
  /** The key's fingerprint, named in the hello. */
  keyId: string;
  /** Ed25519 signature of a payload, base64url. */
  sign(payload: string): string;
}

/** A short-lived credential for the controller's binary cache. */
export type CacheCredentialGrant = Pick<CacheCredential, 'token' | 'expiresAt'>;

export interface ControllerConnectionOptions {
  /** ws:// or wss:// URL of the controller's agent gateway. */
  url: string;
  /** How the controller's certificate is checked (wss:// only). */
  tls?: TlsOptions;
  /** The key that answers the controller's challenges; no secret ever goes on the wire. */
  identity: ConnectionIdentity;
  hello: Omit<Hello, 'type' | 'auth'>;
  /** Read at every dial: what the agent is doing, so the controller can reconcile. */
  helloState?: () => Pick<Hello, 'activeDeploymentId' | 'unacknowledgedResults'>;
  handlers: ConnectionHandlers;
  logger: Logger;
  backoff: BackoffOptions;
  clock?: Clock;
  random?: () => number;
  /** Frames larger than this (bytes) make `ws` close the connection. */
  maxPayloadBytes?: number;
  /** Give up on a connection that has not been welcomed after this long (ms). */
  welcomeTimeoutMs?: number;
  /** A connection up this long (ms) counts as healthy and resets the backoff. */
  stableAfterMs?: number;
}

/** One attempt to talk to the controller, from dial to close. */
interface Session {
  socket: WebSocket;
  generation: number;
  welcomedAt: number | null;
  lastInboundAt: number;
  timers: CancelTimer[];
  /** The upgrade was answered with an HTTP error, already logged. */
  rejected: boolean;
  /** The hello (with the signed challenge) went out. */
  helloSent: boolean;
}

interface PendingCredential {
  resolve(grant: CacheCredentialGrant): void;
  reject(error: Error): void;
  cancel: CancelTimer;
}

/**
 * The agent's link to the controller: dials out, says hello, waits for the welcome, keeps
 * the link alive with pings and redials forever with capped, jittered backoff.
 */
export class ControllerConnection implements MessageSink {
  private session: Session | null = null;
  private ready = false;
  private stopped = true;
  private generations = 0;
  /** The controller refused us for a reason only an operator can fix; retry slowly. */
  private refused = false;
  private cancelReconnect: CancelTimer | null = null;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  /** Cache credential requests waiting for their answer, by request id. */
  private readonly credentialRequests = new Map<string, PendingCredential>();
  /** Called when the connection becomes ready (for requests that wait for it). */
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly options: ControllerConnectionOptions) {
    this.backoff = new Backoff(options.backoff, options.random);
    this.clock = options.clock ?? systemClock;
  }

  get isReady(): boolean {
    return this.ready;
  }

  get generation(): number {
    return this.generations;
  }

  /** Starts dialling; returns at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection and stops redialling. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelReconnect?.();
    const socket = this.session?.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'agent stopping');
    else socket.terminate();
    const cancel = this.clock.setTimer(() => socket.terminate(), 2000);
    await closed;
    cancel();
  }

  send(message: AgentMessage): boolean {
    const socket = this.session?.socket;
    if (!this.ready || socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  /**
   * Asks the controller for a short-lived cache credential, waiting (up to `timeoutMs` in
   * all) for the connection to be ready first. Rejects when no answer comes in time or the
   * controller refuses.
   */
  requestCacheCredential(timeoutMs = 30_000): Promise<CacheCredentialGrant> {
    const requestId = randomUUID();
    return new Promise<CacheCredentialGrant>((resolve, reject) => {
      const cancel = this.clock.setTimer(() => {
        this.credentialRequests.delete(requestId);
        reject(new Error(`no cache credential from the controller within ${timeoutMs} ms`));
      }, timeoutMs);
      this.credentialRequests.set(requestId, { resolve, reject, cancel });
      const ask = () => {
        if (!this.credentialRequests.has(requestId)) return;
        if (!this.send({ type: 'cache.credential_request', requestId })) {
          this.readyWaiters.push(ask);
        }
      };
      ask();
    });
  }

  private connect(): void {
    this.cancelReconnect = null;
    const { url, logger } = this.options;
    logger.debug('connecting to the controller', { url });
    // ws hands these on to tls.connect, whose checkServerIdentity returns an Error or
    // undefined; ws's own typing of that option (a boolean) is not what runs.
    const socket = new WebSocket(url, {
      maxPayload: this.options.maxPayloadBytes ?? 4 * 1024 * 1024,
      handshakeTimeout: 15_000,
      ...(this.options.tls as WebSocket.ClientOptions | undefined),
    });
    const session: Session = {
      socket,
      generation: ++this.generations,
      welcomedAt: null,
      lastInboundAt: this.clock.now().getTime(),
      timers: [],
      rejected: false,
      helloSent: false,
    };
    this.session = session;
    socket.on('open', () => this.onOpen(session));
    socket.on('message', (data) => this.onFrame(session, toBuffer(data)));
    socket.on('pong', () => (session.lastInboundAt = this.clock.now().getTime()));
    socket.on('unexpected-response', (_request, response) => this.onRejected(session, response));
    socket.on('error', (error) => {
      if (!session.rejected) logger.warn('controller connection error', { url, error });
    });
    socket.on('close', (code, reason) => this.onClose(session, code, reason.toString()));
  }

  /** The hello goes out once the controller's challenge arrives; see {@link onChallenge}. */
  private onOpen(session: Session): void {
    const timeoutMs = this.options.welcomeTimeoutMs ?? 30_000;
    session.timers.push(
      this.clock.setTimer(() => {
        if (session.welcomedAt !== null) return;
        this.options.logger.warn('the controller sent no welcome; reconnecting', { timeoutMs });
        session.socket.terminate();
      }, timeoutMs),
    );
  }

  private onFrame(session: Session, data: Buffer): void {
    session.lastInboundAt = this.clock.now().getTime();
    const parsed = parseControllerMessage(data);
    if (!parsed.ok) {
      this.options.logger.warn('invalid message from the controller', {
        code: parsed.error.code,
        type: parsed.type,
        reason: parsed.error.message,
      });
      // Never answer an error with an error: two confused peers would loop forever.
      if (parsed.type !== 'error') {
        this.sendError(session, parsed.error, parsed.type);
      }
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'challenge':
        return this.onChallenge(session, message);
      case 'welcome':
        return this.onWelcome(session, message);
      case 'deploy.request':
      case 'deploy.confirm':
      case 'reboot.request':
      case 'plan.request':
        if (session.welcomedAt === null) {
          const error: ErrorBody = { code: 'invalid_message', message: 'welcome expected first' };
          return this.sendError(session, error, message.type);
        }
        return this.dispatch(message);
      case 'deploy.result.ack':
        return this.options.handlers.onResultAcknowledged(message.deploymentId);
      case 'cache.credential':
        return this.onCacheCredential(message);
      case 'error':
        return this.onControllerError(session, message);
    }
  }

  /**
   * Answers the connection's challenge with the hello, signed for this host, the
   * controller's origin as the agent dialled it, this protocol version and the challenge.
   */
  private onChallenge(session: Session, challenge: Challenge): void {
    const { logger, identity, hello } = this.options;
    if (session.helloSent) {
      logger.warn('ignoring a second challenge on the same connection');
      return;
    }
    if (challenge.protocolVersion !== PROTOCOL_VERSION) {
      logger.warn(protocolMismatchMessage(challenge.protocolVersion, 'agent'));
    }
    const payload = agentAuthPayload({
      host: hello.host,
      origin: controllerHttpOrigin(this.options.url),
      protocolVersion: PROTOCOL_VERSION,
      nonce: challenge.nonce,
    });
    const message: Hello = {
      type: 'hello',
      ...hello,
      ...this.options.helloState?.(),
      auth: { keyId: identity.keyId, signature: identity.sign(payload) },
    };
    session.helloSent = true;
    session.socket.send(JSON.stringify(message));
  }

  private onCacheCredential(message: CacheCredential): void {
    const pending = this.credentialRequests.get(message.requestId);
    if (!pending) return;
    this.credentialRequests.delete(message.requestId);
    pending.cancel();
    pending.resolve({ token: message.token, expiresAt: message.expiresAt });
  }

  private dispatch(message: DeployRequest | DeployConfirm | RebootRequest | PlanRequest): void {
    const { handlers } = this.options;
    switch (message.type) {
      case 'plan.request':
        return handlers.onPlanRequest(message);
      case 'deploy.request':
        return handlers.onDeployRequest(message);
      case 'deploy.confirm':
        return handlers.onDeployConfirm(message.deploymentId);
      case 'reboot.request':
        return handlers.onRebootRequest(message);
    }
  }

  private onWelcome(session: Session, welcome: Welcome): void {
    const { logger } = this.options;
    if (session.welcomedAt !== null) {
      logger.warn('ignoring a second welcome on the same connection');
      return;
    }
    if (welcome.protocolVersion !== PROTOCOL_VERSION) {
      logger.warn(protocolMismatchMessage(welcome.protocolVersion, 'agent'));
    }
    session.welcomedAt = this.clock.now().getTime();
    this.ready = true;
    logger.info('connected to the controller', {
      url: this.options.url,
      controllerVersion: welcome.controllerVersion,
      heartbeatIntervalSeconds: welcome.heartbeatIntervalSeconds,
    });
    this.keepAlive(session, Math.max(1000, welcome.heartbeatIntervalSeconds * 1000));
    this.options.handlers.onReady(welcome);
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /**
   * Pings at the heartbeat interval and drops a connection on which nothing (not even a
   * pong) has arrived for three intervals: a silent network partition otherwise leaves
   * TCP retrying for many minutes while the controller already shows the host offline.
   */
  private keepAlive(session: Session, intervalMs: number): void {
    const tick = () => {
      const silentMs = this.clock.now().getTime() - session.lastInboundAt;
      if (silentMs > 3 * intervalMs) {
        this.options.logger.warn('the controller stopped answering; reconnecting', { silentMs });
        session.socket.terminate();
        return;
      }
      if (session.socket.readyState === WebSocket.OPEN) session.socket.ping();
      session.timers.push(this.clock.setTimer(tick, intervalMs));
    };
    session.timers.push(this.clock.setTimer(tick, intervalMs));
  }

  private onControllerError(session: Session, message: ErrorMessage): void {
    if (message.inReplyTo === 'cache.credential_request') {
      // One request at a time in practice; the refusal answers every one waiting.
      for (const [id, pending] of this.credentialRequests) {
        this.credentialRequests.delete(id);
        pending.cancel();
        pending.reject(
          new Error(`the controller refused a cache credential: ${message.error.message}`),
        );
      }
      return;
    }
    const explanation = explainControllerError(message.error, this.options.hello.host);
    const fields = { code: message.error.code, inReplyTo: message.inReplyTo };
    if (explanation === null) {
      this.options.logger.warn(
        `the controller reported an error: ${message.error.message}`,
        fields,
      );
      return;
    }
    this.options.logger.error(explanation, fields);
    this.refused = true;
    session.socket.close(1000, 'refused by the controller');
  }

  private onRejected(session: Session, response: IncomingMessage): void {
    session.rejected = true;
    const status = response.statusCode ?? 0;
    void readErrorBody(response, this.clock).then((body) => {
      const host = this.options.hello.host;
      const { message, operatorMustAct } = explainRejectedUpgrade(status, body, host);
      const fields = { status, code: body?.code, url: this.options.url };
      if (operatorMustAct) this.options.logger.error(message, fields);
      else this.options.logger.warn(message, fields);
      this.refused ||= operatorMustAct;
      session.socket.terminate();
    });
  }

  private onClose(session: Session, code: number, reason: string): void {
    session.timers.forEach((cancel) => cancel());
    if (this.session !== session) return;
    const wasReady = this.ready;
    this.ready = false;
    const now = this.clock.now().getTime();
    if (
      session.welcomedAt !== null &&
      now - session.welcomedAt >= (this.options.stableAfterMs ?? 30_000)
    ) {
      this.backoff.reset();
    }
    if (wasReady) {
      this.options.logger.info('disconnected from the controller', { code, reason });
      this.options.handlers.onDown();
    }
    if (this.stopped) return;
    const delayMs = this.refused ? this.backoff.capped() : this.backoff.next();
    this.refused = false;
    this.options.logger.info('reconnecting to the controller', { delayMs });
    this.cancelReconnect = this.clock.setTimer(() => this.connect(), delayMs);
  }

  private sendError(session: Session, error: ErrorBody, inReplyTo: string | undefined): void {
    if (session.socket.readyState !== WebSocket.OPEN) return;
    const reply: ErrorMessage = {
      type: 'error',
      error,
      ...(inReplyTo === undefined ? {} : { inReplyTo }),
    };
    session.socket.send(JSON.stringify(reply));
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
