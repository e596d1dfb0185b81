import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { DeployRequest, Welcome } from '@flotilla/protocol';
import WebSocket, { WebSocketServer } from 'ws';
import { ControllerConnection } from './connection.js';
import { Logger } from '@flotilla/runtime';

const welcome: Welcome = {
  type: 'welcome',
  protocolVersion: 1,
  controllerVersion: '0.1.0',
  heartbeatIntervalSeconds: 30,
};

/** A controller stand-in on a loopback port that welcomes every hello. */
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
  server.on('connection', (socket, request) => {
    auth.push(request.headers.authorization);
    sockets.push(socket);
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string };
      received.push(message);
      if (message.type === 'hello') socket.send(JSON.stringify(welcome));
    });
  });
  const port = (server.address() as AddressInfo).port;
  return { server, received, auth, sockets, url: `ws://127.0.0.1:${port}/api/v1/agent/ws` };
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
    token: 'tkn',
    hello: { protocolVersion: 1, host: 'h1', os: 'linux', mode: 'managed', agentVersion: '0.1.0' },
    ...(state === undefined ? {} : { helloState: () => state }),
    handlers: {
      onReady: () => events.push('ready'),
      onDeployRequest: (request) => requests.push(request),
      onDeployConfirm: (id) => events.push(`confirm ${id}`),
      onRebootRequest: (request) => events.push(`reboot ${request.requestId}`),
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

  it('says hello with the token, becomes ready on welcome and passes deploy requests on', async () => {
    const controller = await startController();
    const agent = connect(controller.url);
    cleanups.push(
      () => agent.connection.stop(),
      async () => controller.server.close(),
    );
    await waitFor(() => agent.connection.isReady, 'ready');
    assert.deepEqual(controller.auth, ['Bearer tkn']);
    assert.deepEqual(controller.received[0], {
      type: 'hello',
      protocolVersion: 1,
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
    assert.deepEqual(agent.requests[0], {
      ...request,
      confirmTimeoutSeconds: 90,
      healthChecks: [],
    });
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
    assert.deepEqual(controller.received[0], {
      type: 'hello',
      protocolVersion: 1,
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

  it('reconnects after the controller drops it, and after refusing its token', async () => {
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
      JSON.stringify({ type: 'error', error: { code: 'unauthorized', message: 'bad token' } }),
    );
    await waitFor(() => controller.sockets.length === 3 && agent.connection.isReady, 'retry');
    assert.deepEqual(agent.events, ['ready', 'down', 'ready', 'down', 'ready']);
    const refusal = agent.logs.find((log) => log.level === 'error');
    assert.match(refusal?.msg ?? '', /rejected this agent's token/);
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
    assert.ok(agent.logs.every((log) => !JSON.stringify(log).includes('tkn')));
  });
});
