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
import type { HostRow } from '../storage/host.repository.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { RebootService } from '../hosts/reboot.service.js';
import type { AgentChannel, PresenceService } from '../hosts/presence.service.js';

export interface AgentSessionOptions {
  socket: WebSocket;
  host: HostRow;
  presence: PresenceService;
  runner: DeploymentRunner;
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
  heartbeatTimeout: 4008,
  replaced: 4009,
} as const;

/**
 * One authenticated agent connection. Messages are handled strictly in arrival order
 * (a promise chain), so a deployment's log lines are stored before its result.
 */
export class AgentSession implements AgentChannel {
  private ready = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private helloTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgentSessionOptions) {
    this.log = options.logger.child({ host: options.host.name });
  }

  start(): void {
    const { socket, helloTimeoutMs } = this.options;
    this.helloTimer = setTimeout(() => {
      this.sendError('hello_required', 'no hello received in time');
      this.close(CloseCode.helloRequired, 'hello required');
    }, helloTimeoutMs);
    socket.on('message', (data, isBinary) => {
      const raw = isBinary ? Buffer.from(data as Buffer) : (data as Buffer);
      this.chain = this.chain
        .then(() => this.receive(raw))
        .catch((error: unknown) => this.fail(error));
    });
    socket.on('close', (code) => {
      clearTimeout(this.helloTimer);
      if (this.ready) {
        this.options.presence.disconnected(this.options.host.name, this, `closed (${code})`);
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

  close(code: number, reason: string): void {
    this.options.socket.close(code, reason);
  }

  private async receive(raw: Buffer): Promise<void> {
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
    if (!this.ready && message.type !== 'hello') {
      throw new FlotillaError('hello_required', `expected hello before "${message.type}"`);
    }
    const { presence, runner, host } = this.options;
    switch (message.type) {
      case 'hello':
        return this.hello(message);
      case 'heartbeat':
        presence.heartbeat(host.name, message.metrics);
        return;
      case 'facts':
        presence.facts(host.name, message.facts);
        return;
      case 'deploy.progress':
        return runner.onProgress(host.name, message);
      case 'deploy.log':
        return runner.onLog(host.name, message);
      case 'deploy.confirm_request':
        return runner.onConfirmRequest(host.name, message);
      case 'deploy.result':
        return this.result(message);
      case 'reboot.result':
        return this.options.reboots.onResult(host.name, message);
      case 'error':
        this.log.warn(
          { code: message.error.code, inReplyTo: message.inReplyTo },
          `agent reported: ${message.error.message}`,
        );
        return;
    }
  }

  /**
   * Stores a result, then acknowledges it so the agent can forget it. A result for a
   * deployment this controller does not know is acknowledged too (after the error), or
   * the agent would resend it forever.
   */
  private async result(message: Extract<AgentMessage, { type: 'deploy.result' }>): Promise<void> {
    const ack = { type: 'deploy.result.ack', deploymentId: message.deploymentId } as const;
    try {
      await this.options.runner.onResult(this.options.host.name, message);
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

  private async hello(message: Extract<AgentMessage, { type: 'hello' }>): Promise<void> {
    const { host, presence, runner, heartbeatIntervalSeconds } = this.options;
    if (this.ready) throw new FlotillaError('invalid_message', 'hello was already received');
    clearTimeout(this.helloTimer);
    if (message.protocolVersion !== PROTOCOL_VERSION) {
      const text = protocolMismatchMessage(message.protocolVersion, 'controller');
      this.log.error({ agentVersion: message.agentVersion }, text);
      this.sendError('protocol_version_mismatch', text, {
        controllerProtocolVersion: PROTOCOL_VERSION,
        agentProtocolVersion: message.protocolVersion,
      });
      this.close(CloseCode.protocolMismatch, 'protocol version mismatch');
      return;
    }
    if (message.host !== host.name) {
      this.sendError(
        'host_mismatch',
        `this token belongs to host "${host.name}", not "${message.host}"`,
      );
      this.close(CloseCode.hostMismatch, 'host mismatch');
      return;
    }
    if (message.mode !== host.mode) {
      this.log.warn(
        { agentMode: message.mode, registryMode: host.mode },
        'agent mode differs from the registry; the registry decides',
      );
    }
    this.ready = true;
    presence.connected(host.name, this, {
      version: message.agentVersion,
      protocolVersion: message.protocolVersion,
      os: message.os,
      baseUrl: this.options.baseUrl,
    });
    this.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      controllerVersion: FLOTILLA_VERSION,
      heartbeatIntervalSeconds,
    });
    this.log.info({ agentVersion: message.agentVersion }, 'agent connected');
    await runner.reconcile(host.name, {
      activeDeploymentId: message.activeDeploymentId ?? null,
      unacknowledgedResults: message.unacknowledgedResults ?? [],
    });
    await runner.dispatchPending(host.name);
  }

  private sendError(code: ErrorCode, message: string, details?: unknown): void {
    this.send({ type: 'error', error: new FlotillaError(code, message, details).toBody() });
  }

  private fail(error: unknown): void {
    this.log.error({ err: error }, 'handling an agent message failed');
    this.sendError('internal_error', 'the controller failed to handle the message');
  }
}
