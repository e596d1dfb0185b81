import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  agentAuthPayload,
  PROTOCOL_VERSION,
  type DeployRequest,
  type Hello,
  type Welcome,
} from '@flotilla/protocol';
import WebSocket, { WebSocketServer } from 'ws';
import { ControllerConnection } from './connection.js';
import { AgentKey } from './identity/agent-key.js';
import { Logger } from '@flotilla/runtime';

const welcome: Welcome = {
  type: 'welcome',
  protocolVersion: PROTOCOL_VERSION,
  controllerVersion: '0.1.0',
  heartbeatIntervalSeconds: 30,
};

const key = AgentKey.generate();

/** Whether a hello answers `nonce` with a valid signature of `key` for this origin. */
function signedFor(hello: Hello, nonce: string, origin: string): boolean {
  if (!hello.auth || hello.auth.keyId !== key.fingerprint) return false;
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey },
    format: 'jwk',
  });
  const payload = agentAuthPayload({
    host: hello.host,
    origin,
    protocolVersion: PROTOCOL_VERSION,
    nonce,
  });
  return verify(
    null,
    Buffer.from(payload),
    publicKey,
    Buffer.from(hello.auth.signature, 'base64url'),
  );
}

/**
 * A controller stand-in on a loopback port: it challenges every connection and welcomes a
 * hello only when it carries a valid signature of that challenge.
 */
async function startController(options: { rejectWith?: number } = {}) {
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    verifyClient: (_info, done) =>
      options.rejectWith === undefined ? done(true) : done(false, options.rejectWith),
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const received: unknown[] = [];
  const auth: (string | undefined)[] = [];
  const sockets: WebSocket[] = [];
  const verified: boolean[] = [];
  const port = () => (server.address() as AddressInfo).port;
  server.on('connection', (socket, request) => {
    auth.push(request.headers.authorization);
    sockets.push(socket);
    const nonce = randomBytes(32).toString('base64url');
    socket.send(JSON.stringify({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce }));
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string };
      received.push(message);
      if (message.type !== 'hello') return;
      const ok = signedFor(message as Hello, nonce, `http://127.0.0.1:${port()}`);
      verified.push(ok);
      if (ok) socket.send(JSON.stringify(welcome));
    });
  });
  return {
    server,
    received,
    auth,
    sockets,
    verified,
    url: `ws://127.0.0.1:${port()}/api/v1/agent/ws`,
  };
}

/** A hello as the stand-in received it, without the signature (it changes every time). */
function unsigned(message: unknown): unknown {
  const { auth, ...rest } = message as Hello;
  assert.equal(auth?.keyId, key.fingerprint);
  return rest;
}

function connect(
  url: string,
  state?: { activeDeploymentId: string; unacknowledgedResults: string[] },
) {
  const logs: { level: string; msg: string; status?: number }[] = [];
  const events: string[] = [];
  const requests: DeployRequest[] = [];
  const connection = new ControllerConnection({
    url,
    identity: { keyId: key.fingerprint, sign: (payload) => key.sign(payload) },
    hello: {
      protocolVersion: PROTOCOL_VERSION,
      host: 'h1',
      os: 'linux',
      mode: 'managed',
      agentVersion: '0.1.0',
    },
    ...(state === undefined ? {} : { helloState: () => state }),
    handlers: {
      onReady: () => events.push('ready'),
      onDeployRequest: (request) => requests.push(request),
      onDeployConfirm: (id) => events.push(`confirm ${id}`),
      onRebootRequest: (request) => events.push(`reboot ${request.requestId}`),
      onPlanRequest: (request) => events.push(`plan ${request.deploymentId}`),
      onResultAcknowledged: (id) => events.push(`ack ${id}`),
      onDown: () => events.push('down'),
    },
    logger: new Logger({
      level: 'debug',
      output: { write: (line: string) => logs.push(JSON.parse(line) as never) },
    }),
    backoff: { baseMs: 10, capMs: 40 },
  });
  connection.start();
  return { connection, logs, events, requests };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ControllerConnection', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('answers the challenge with a signed hello and no secret, becomes ready on welcome and passes deploy requests on', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    assert.deepEqual(controller.auth, [undefined], 'no Authorization header');
    assert.deepEqual(controller.verified, [true]);
    assert.deepEqual(unsigned(controller.received[0]), {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      host: 'h1',
      os: 'linux',
      mode: 'managed',
      agentVersion: '0.1.0',
    });
    assert.equal(agent.connection.send({ type: 'heartbeat', seq: 0 }), true);
    const request = {
      type: 'deploy.request',
      deploymentId: 'd1',
      storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1',
      action: 'switch',
      cache: null,
    };
    controller.sockets[0]?.send(JSON.stringify(request));
    await waitFor(() => agent.requests.length === 1, 'deploy request');
    // Parsed with the protocol's defaults filled in.
    assert.deepEqual(agent.requests[0], { ...request, confirmTimeoutSeconds: 90 });
  });

  it('passes plan requests on once welcomed', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    controller.sockets[0]?.send(
      JSON.stringify({
        type: 'plan.request',
        deploymentId: 'd7',
        storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1',
        action: 'switch',
        cache: null,
      }),
    );
    await waitFor(() => agent.events.includes('plan d7'), 'plan request');
  });

  it('drops keys and health checks a controller puts in a deploy request', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    controller.sockets[0]?.send(
      JSON.stringify({
        type: 'deploy.request',
        deploymentId: 'd1',
        storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1',
        action: 'switch',
        cache: { url: 'http://127.0.0.1:1/cache', publicKeys: ['evil-1:AAAA'] },
        healthChecks: [{ kind: 'command', argv: ['/bin/sh', '-c', 'id'] }],
      }),
    );
    await waitFor(() => agent.requests.length === 1, 'deploy request');
    assert.deepEqual(agent.requests[0]?.cache, { url: 'http://127.0.0.1:1/cache' });
    assert.equal('healthChecks' in (agent.requests[0] ?? {}), false);
  });

  it('asks for a cache credential over the connection, waiting until it is ready', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    const asked = agent.connection.requestCacheCredential(3000);
    await waitFor(
      () =>
        controller.received.some(
          (m) => (m as { type: string }).type === 'cache.credential_request',
        ),
      'the request',
    );
    const request = controller.received.find(
      (m) => (m as { type: string }).type === 'cache.credential_request',
    ) as { requestId: string };
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    controller.sockets[0]?.send(
      JSON.stringify({
        type: 'cache.credential',
        requestId: request.requestId,
        token: 'fltc_x',
        expiresAt,
      }),
    );
    assert.deepEqual(await asked, { token: 'fltc_x', expiresAt });
    const refused = agent.connection.requestCacheCredential(3000);
    controller.sockets[0]?.send(
      JSON.stringify({
        type: 'error',
        inReplyTo: 'cache.credential_request',
        error: { code: 'host_not_managed', message: 'monitor-only' },
      }),
    );
    await assert.rejects(refused, /refused a cache credential: monitor-only/);
    assert.equal(agent.connection.isReady, true);
  });

  it('passes confirmations and reboot requests on, and says what it is doing in the hello', async () => {
    const controller = await startController();
    const agent = connect(controller.url, {
      activeDeploymentId: 'd7',
      unacknowledgedResults: ['d6'],
    });
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    assert.deepEqual(unsigned(controller.received[0]), {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      host: 'h1',
      os: 'linux',
      mode: 'managed',
      agentVersion: '0.1.0',
      activeDeploymentId: 'd7',
      unacknowledgedResults: ['d6'],
    });
    controller.sockets[0]?.send(JSON.stringify({ type: 'deploy.confirm', deploymentId: 'd7' }));
    controller.sockets[0]?.send(JSON.stringify({ type: 'reboot.request', requestId: 'r1' }));
    await waitFor(() => agent.events.length === 3, 'confirm and reboot');
    assert.deepEqual(agent.events, ['ready', 'confirm d7', 'reboot r1']);
  });

  it('answers an invalid frame with an error naming its type, and stays up', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    controller.sockets[0]?.send(JSON.stringify({ type: 'deploy.request', deploymentId: 'x' }));
    controller.sockets[0]?.send('{not json');
    await waitFor(() => controller.received.length >= 3, 'error replies');
    assert.deepEqual(
      controller.received.slice(1).map((m) => {
        const message = m as { error: { code: string }; inReplyTo?: string };
        return [message.error.code, message.inReplyTo];
      }),
      [
        ['invalid_message', 'deploy.request'],
        ['malformed_message', undefined],
      ],
    );
    assert.equal(agent.connection.isReady, true);
  });

  it('reconnects after the controller drops it, and after refusing its key', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    controller.sockets[0]?.terminate();
    await waitFor(() => controller.sockets.length === 2 && agent.connection.isReady, 'reconnect');
    controller.sockets[1]?.send(
      JSON.stringify({ type: 'error', error: { code: 'agent_not_enrolled', message: 'revoked' } }),
    );
    await waitFor(() => controller.sockets.length === 3 && agent.connection.isReady, 'retry');
    assert.deepEqual(agent.events, ['ready', 'down', 'ready', 'down', 'ready']);
    const refusal = agent.logs.find((log) => log.level === 'error');
    assert.match(refusal?.msg ?? '', /flotilla host enroll h1/);
    assert.deepEqual(controller.verified, [true, true, true], 'a fresh signature each time');
  });

  it('logs the HTTP status when the upgrade is refused, and keeps trying', async () => {
    const controller = await startController({ rejectWith: 401 });
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.logs.filter((log) => log.status === 401).length >= 2, 'retries');
    assert.equal(agent.connection.isReady, false);
    assert.match(agent.logs.find((log) => log.status === 401)?.msg ?? '', /older than this agent/);
  });
});
