import { randomBytes } from 'node:crypto';
import {
  FlotillaError,
  parseAgentMessage,
  PROTOCOL_VERSION,
  FLOTILLA_VERSION,
  protocolMismatchMessage,
  type AgentMessage,
  type ControllerMessage,
  type ErrorCode,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { CacheCredentialGrant } from '../cache/cache-credentials.js';
import type { HostRow } from '../storage/host.repository.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { PlanService } from '../plans/plan.service.js';
import type { HostIdentityService } from '../hosts/host-identity.service.js';
import type { RebootService } from '../hosts/reboot.service.js';
import type { AgentChannel, PresenceService } from '../hosts/presence.service.js';

export interface AgentSessionOptions {
  socket: WebSocket;
  /** Checks the agent's signed answer to the challenge. */
  identity: Pick<HostIdentityService, 'authenticate' | 'isCurrent'>;
  /** The http(s) origins the agent may have dialled (its signature names one). */
  origins: readonly string[];
  /** The client's address (behind trusted proxies), for the log of refused attempts. */
  remoteAddress: string | undefined;
  /** Counts a refused hello against the client's address; answers the lockout in seconds. */
  authenticationFailed: () => number;
  /** Issues a short-lived credential for the binary cache to an authenticated host. */
  cacheCredential: (host: string) => CacheCredentialGrant;
  presence: PresenceService;
  runner: DeploymentRunner;
  plans: Pick<PlanService, 'refreshHost' | 'onFacts' | 'onResult' | 'onRequestRefused'>;
  reboots: RebootService;
  logger: Logger;
  heartbeatIntervalSeconds: number;
  maxMessageBytes: number;
  helloTimeoutMs: number;
  /** The http(s) base URL the agent connected to (see agentBaseUrl); null when unknown. */
  baseUrl: string | null;
}

/** WebSocket close codes the controller uses (4000–4999 are for applications). */
export const CloseCode = {
  protocolMismatch: 4000,
  helloRequired: 4001,
  hostMismatch: 4003,
  unauthorized: 4004,
  heartbeatTimeout: 4008,
  replaced: 4009,
  removed: 4010,
  revoked: 4011,
} as const;

/**
 * One agent connection. It opens with a fresh challenge; the agent's hello must carry the
 * challenge signed with its enrolled key, and nothing else is handled before that. Messages
 * are handled strictly in arrival order (a promise chain), so a deployment's log lines are
 * stored before its result.
 */
export class AgentSession implements AgentChannel {
  private authenticated: HostRow | null = null;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private log: Logger;
  private helloTimer: NodeJS.Timeout | undefined;
  /** 32 random bytes, base64url: this connection's challenge, never reused. */
  private readonly nonce = randomBytes(32).toString('base64url');

  constructor(private readonly options: AgentSessionOptions) {
    this.log = options.logger.child({ remote: options.remoteAddress });
  }

  start(): void {
    const { socket, helloTimeoutMs } = this.options;
    this.helloTimer = setTimeout(() => {
      this.sendError('hello_required', 'no hello received in time');
      this.close(CloseCode.helloRequired, 'hello required');
    }, helloTimeoutMs);
    this.send({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce: this.nonce });
    socket.on('message', (data, isBinary) => {
      const raw = isBinary ? Buffer.from(data as Buffer) : (data as Buffer);
      this.chain = this.chain
        .then(() => this.receive(raw))
        .catch((error: unknown) => this.fail(error));
    });
    socket.on('close', (code) => {
      this.closed = true;
      clearTimeout(this.helloTimer);
      if (this.authenticated) {
        this.options.presence.disconnected(this.authenticated.name, this, `closed (${code})`);
        this.log.info({ code }, 'agent disconnected');
      }
    });
    socket.on('error', (error) => this.log.warn({ err: error }, 'agent socket error'));
  }

  send(message: ControllerMessage): boolean {
    const { socket } = this.options;
    if (socket.readyState !== socket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  /** Closes the connection; nothing it still receives is handled. */
  close(code: number, reason: string): void {
    this.closed = true;
    this.options.socket.close(code, reason);
  }

  private async receive(raw: Buffer): Promise<void> {
    if (this.closed) return;
    const parsed = parseAgentMessage(raw, this.options.maxMessageBytes);
    if (!parsed.ok) {
      this.log.warn({ code: parsed.error.code, type: parsed.type }, parsed.error.message);
      this.send({
        type: 'error',
        error: parsed.error,
        ...(parsed.type ? { inReplyTo: parsed.type } : {}),
      });
      return;
    }
    const message = parsed.message;
    try {
      await this.handle(message);
    } catch (error) {
      if (!(error instanceof FlotillaError)) throw error;
      this.log.warn({ code: error.code, type: message.type }, error.message);
      this.send({ type: 'error', error: error.toBody(), inReplyTo: message.type });
    }
  }

  private async handle(message: AgentMessage): Promise<void> {
    if (message.type === 'hello') return this.hello(message);
    const host = this.authenticated;
    if (host === null) {
      throw new FlotillaError('hello_required', `expected hello before "${message.type}"`);
    }
    const { presence, runner } = this.options;
    switch (message.type) {
      case 'heartbeat':
        presence.heartbeat(host.name, message.metrics);
        return;
      case 'facts': {
        const before = presence.get(host.name)?.facts?.system.current;
        presence.facts(host.name, message.facts);
        // Not awaited: it reads and sends, and must not hold up the agent's next message.
        void this.options.plans.onFacts(host.name, before, message.facts);
        return;
      }
      case 'deploy.progress':
        return runner.onProgress(host.name, message);
      case 'deploy.log':
        return runner.onLog(host.name, message);
      case 'deploy.confirm_request':
        return runner.onConfirmRequest(host.name, message);
      case 'deploy.result':
        return this.result(host, message);
      case 'reboot.result':
        return this.options.reboots.onResult(host.name, message);
      case 'cache.credential_request':
        return this.cacheCredential(host, message.requestId);
      case 'plan.result':
        return this.options.plans.onResult(host.name, message);
      case 'error':
        this.log.warn(
          { code: message.error.code, inReplyTo: message.inReplyTo },
          `agent reported: ${message.error.message}`,
        );
        if (message.inReplyTo === 'plan.request') {
          await this.options.plans.onRequestRefused(host.name, message.error.message);
        }
        return;
    }
  }

  /**
   * Stores a result, then acknowledges it so the agent can forget it. A result for a
   * deployment this controller does not know is acknowledged too (after the error), or
   * the agent would resend it forever.
   */
  private async result(
    host: HostRow,
    message: Extract<AgentMessage, { type: 'deploy.result' }>,
  ): Promise<void> {
    const ack = { type: 'deploy.result.ack', deploymentId: message.deploymentId } as const;
    try {
      await this.options.runner.onResult(host.name, message);
    } catch (error) {
      if (error instanceof FlotillaError && error.code === 'deployment_not_found') {
        this.log.warn({ deploymentId: message.deploymentId }, error.message);
        this.send({ type: 'error', error: error.toBody(), inReplyTo: message.type });
        this.send(ack);
        return;
      }
      throw error;
    }
    this.send(ack);
  }

  /**
   * A cache credential for the host's own releases, valid for minutes. Monitor hosts never
   * fetch anything and get none.
   */
  private cacheCredential(host: HostRow, requestId: string): void {
    if (host.mode === 'monitor') {
      throw new FlotillaError('host_not_managed', `host "${host.name}" is monitor-only`);
    }
    const grant = this.options.cacheCredential(host.name);
    this.send({ type: 'cache.credential', requestId, ...grant });
  }

  private async hello(message: Extract<AgentMessage, { type: 'hello' }>): Promise<void> {
    const { presence, runner, heartbeatIntervalSeconds, identity } = this.options;
    if (this.authenticated)
      throw new FlotillaError('invalid_message', 'hello was already received');
    clearTimeout(this.helloTimer);
    if (message.protocolVersion !== PROTOCOL_VERSION) {
      const text = protocolMismatchMessage(message.protocolVersion, 'controller');
      this.log.error({ agentVersion: message.agentVersion, host: message.host }, text);
      this.sendError('protocol_version_mismatch', text, {
        controllerProtocolVersion: PROTOCOL_VERSION,
        agentProtocolVersion: message.protocolVersion,
      });
      this.close(CloseCode.protocolMismatch, 'protocol version mismatch');
      return;
    }
    let agent;
    try {
      agent = await identity.authenticate({
        host: message.host,
        auth: message.auth,
        nonce: this.nonce,
        origins: this.options.origins,
      });
    } catch (error) {
      if (!(error instanceof FlotillaError)) throw error;
      this.refuse(error, message.host, message.auth?.keyId);
      return;
    }
    // Checked in the same turn as it is marked online, so a revocation is either seen here
    // or finds the connection online and cuts it off (see HostIdentityService).
    if (!identity.isCurrent(agent) || this.closed) {
      const revoked = new FlotillaError('agent_not_enrolled', 'the key was revoked just now');
      this.refuse(revoked, message.host, message.auth?.keyId);
      return;
    }
    const host = agent.host;
    this.authenticated = host;
    this.log = this.options.logger.child({ host: host.name });
    if (message.mode !== host.mode) {
      this.log.warn(
        { agentMode: message.mode, registryMode: host.mode },
        'agent mode differs from the registry; the registry decides',
      );
    }
    presence.connected(host.name, this, {
      version: message.agentVersion,
      protocolVersion: message.protocolVersion,
      os: message.os,
      baseUrl: this.options.baseUrl,
      features: message.features ?? [],
    });
    this.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      controllerVersion: FLOTILLA_VERSION,
      heartbeatIntervalSeconds,
    });
    this.log.info(
      { agentVersion: message.agentVersion, keyFingerprint: agent.keyFingerprint },
      'agent connected',
    );
    await runner.reconcile(host.name, {
      activeDeploymentId: message.activeDeploymentId ?? null,
      unacknowledgedResults: message.unacknowledgedResults ?? [],
    });
    await runner.dispatchPending(host.name);
    await this.options.plans.refreshHost(host.name);
  }

  /** Answers a failed authentication with its code, logs it with the peer's address, closes. */
  private refuse(error: FlotillaError, claimedHost: string, keyId: string | undefined): void {
    const lockoutSeconds = this.options.authenticationFailed();
    this.log.warn(
      {
        code: error.code,
        claimedHost,
        keyId,
        remote: this.options.remoteAddress,
        ...(lockoutSeconds > 0 ? { lockoutSeconds } : {}),
      },
      `agent authentication failed: ${error.message}`,
    );
    this.sendError(error.code, error.message);
    const code = error.code === 'host_mismatch' ? CloseCode.hostMismatch : CloseCode.unauthorized;
    this.close(code, error.code);
  }

  private sendError(code: ErrorCode, message: string, details?: unknown): void {
    this.send({ type: 'error', error: new FlotillaError(code, message, details).toBody() });
  }

  private fail(error: unknown): void {
    this.log.error({ err: error }, 'handling an agent message failed');
    this.sendError('internal_error', 'the controller failed to handle the message');
  }
}
