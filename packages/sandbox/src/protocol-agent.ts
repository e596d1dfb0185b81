import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  agentAuthPayload,
  FLOTILLA_VERSION,
  PROTOCOL_VERSION,
  type AgentAuth,
  type ControllerMessage,
  type EnrollAgentResponse,
  type ErrorBody,
  type Hello,
} from '@flotilla/protocol';
import WebSocket from 'ws';
import { JsonClient } from './http.js';

/**
 * An agent identity made in this process, for tests and benchmarks that speak the agent
 * protocol themselves (the real agent keeps its key on disk; see packages/agent).
 */
export interface AgentIdentity {
  host: string;
  /** Ed25519, the 32 raw bytes in base64url, as enrollment sends it. */
  publicKey: string;
  /** `SHA256:<base64>`, as the hello names it. */
  fingerprint: string;
  privateKey: KeyObject;
}

/** A fresh Ed25519 identity for `host`. */
export function newAgentIdentity(host: string): AgentIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x ?? '';
  const digest = createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('base64');
  return { host, publicKey: raw, fingerprint: `SHA256:${digest.replace(/=+$/, '')}`, privateKey };
}

/** `POST /api/v1/agent/enroll` with the identity's public key; the answer as it came. */
export function enrollIdentity(
  controllerUrl: string,
  identity: AgentIdentity,
  token: string,
  host = identity.host,
): Promise<{ status: number; body: EnrollAgentResponse & { error: ErrorBody } }> {
  return new JsonClient(controllerUrl).post('/api/v1/agent/enroll', {
    token,
    host,
    publicKey: identity.publicKey,
  });
}

/** What the identity signs to answer `nonce` for `host` at the controller's http(s) origin. */
export function signChallenge(
  identity: AgentIdentity,
  options: { nonce: string; origin: string; host?: string; protocolVersion?: number },
): AgentAuth {
  const payload = agentAuthPayload({
    host: options.host ?? identity.host,
    origin: options.origin,
    protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
    nonce: options.nonce,
  });
  return {
    keyId: identity.fingerprint,
    signature: sign(null, Buffer.from(payload, 'utf8'), identity.privateKey).toString('base64url'),
  };
}

/**
 * A raw agent⇄controller connection: it collects what the controller sends (the first is
 * the challenge) and sends whatever hello a test wants, signed or forged.
 */
export class ProtocolAgent {
  readonly received: ControllerMessage[] = [];
  closeCode: number | undefined;
  private constructor(
    readonly socket: WebSocket,
    /** The http(s) origin dialled, as a real agent signs it. */
    readonly origin: string,
  ) {
    socket.on('message', (data) =>
      this.received.push(JSON.parse((data as Buffer).toString('utf8')) as ControllerMessage),
    );
    socket.on('close', (code) => (this.closeCode = code));
  }

  /** Connects to the agent gateway of the controller at `controllerUrl` (http://…). */
  static connect(controllerUrl: string): Promise<ProtocolAgent> {
    const url = `${controllerUrl.replace(/^http/, 'ws')}/api/v1/agent/ws`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const agent = new ProtocolAgent(socket, new URL(controllerUrl).origin);
      socket.once('open', () => resolve(agent));
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  /** Connects as an enrolled identity: signed hello, then the welcome. */
  static async connectAs(controllerUrl: string, identity: AgentIdentity): Promise<ProtocolAgent> {
    const agent = await ProtocolAgent.connect(controllerUrl);
    await agent.hello(identity);
    await agent.next('welcome');
    return agent;
  }

  /** Asks for a short-lived cache credential over this (welcomed) connection; its token. */
  async cacheCredential(): Promise<string> {
    const requestId = `r${this.received.length}-${Date.now()}`;
    const from = this.received.length;
    this.socket.send(JSON.stringify({ type: 'cache.credential_request', requestId }));
    const answer = await JsonClient.until(
      async () =>
        this.received
          .slice(from)
          .find(
            (m) =>
              (m.type === 'cache.credential' && m.requestId === requestId) ||
              (m.type === 'error' && m.inReplyTo === 'cache.credential_request'),
          ),
      'a cache credential',
      10_000,
    );
    if (answer.type !== 'cache.credential') {
      throw new Error(`no cache credential: ${JSON.stringify(answer)}`);
    }
    return answer.token;
  }

  /** The connection's challenge, once it arrived. */
  async challenge(): Promise<string> {
    const message = await this.next('challenge', 0);
    return message.nonce;
  }

  /**
   * Sends a hello as `host`: signed by `identity` over this connection's challenge unless
   * `auth` is given (a forgery), or with no auth at all when `identity` is null.
   */
  async hello(
    identity: AgentIdentity | null,
    options: Partial<Pick<Hello, 'host' | 'protocolVersion' | 'agentVersion' | 'auth'>> = {},
  ): Promise<void> {
    const host = options.host ?? identity?.host ?? 'unknown';
    const protocolVersion = options.protocolVersion ?? PROTOCOL_VERSION;
    const auth =
      options.auth ??
      (identity === null
        ? undefined
        : signChallenge(identity, {
            nonce: await this.challenge(),
            origin: this.origin,
            host,
            protocolVersion,
          }));
    const hello: Hello = {
      type: 'hello',
      protocolVersion,
      host,
      os: 'linux',
      mode: 'managed',
      agentVersion: options.agentVersion ?? FLOTILLA_VERSION,
      ...(auth === undefined ? {} : { auth }),
    };
    this.socket.send(JSON.stringify(hello));
  }

  /** The first message of `type` at or after index `from`, waiting up to 10 s. */
  next<T extends ControllerMessage['type']>(
    type: T,
    from = 0,
  ): Promise<Extract<ControllerMessage, { type: T }>> {
    return JsonClient.until(
      async () =>
        this.received
          .slice(from)
          .find((m): m is Extract<ControllerMessage, { type: T }> => m.type === type),
      `a ${type} message`,
      10_000,
    );
  }

  /** The body of the next error message after `from`. */
  async nextError(from: number): Promise<ErrorBody> {
    return (await this.next('error', from)).error;
  }

  /** Waits for the connection to close; its close code. */
  closed(): Promise<number> {
    return JsonClient.until(async () => this.closeCode, 'the connection to close', 10_000);
  }
}
