import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROTOCOL_VERSION, type ErrorBody } from '@flotilla/protocol';
import {
  buildHost,
  enrollIdentity,
  JsonClient,
  newAgentIdentity,
  ProtocolAgent,
  writeSandboxFlake,
  type AgentIdentity,
} from '@flotilla/sandbox';
import WebSocket from 'ws';
import { join } from 'node:path';
import { FleetFixture } from './fleet-fixture.js';

describe(
  'bad input is answered with stable error codes and the controller stays healthy',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;
    let raw1: AgentIdentity;

    /** Registers a host and enrolls a key for it made here. */
    async function enrolled(name: string): Promise<AgentIdentity> {
      const identity = newAgentIdentity(name);
      const token = await fleet.register(name);
      const answer = await enrollIdentity(fleet.controller.url, identity, token);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      return identity;
    }

    before(async () => {
      fleet = await FleetFixture.start('bad-input');
      raw1 = await enrolled('raw1');
    });

    after(async () => {
      await fleet?.stop();
    });

    it('answers malformed JSON in an API body with validation_failed', async () => {
      const response = await fleet.api.request<{ error: ErrorBody }>(
        'POST',
        '/api/v1/hosts',
        '{"name":',
      );
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'validation_failed');
    });

    it('answers a wrong admin token with unauthorized', async () => {
      const stranger = new JsonClient(fleet.controller.url, 'not-the-token');
      const response = await stranger.get<{ error: ErrorBody }>('/api/v1/hosts');
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'unauthorized');
    });

    it('refuses a hello that does not answer the challenge, and closes', async () => {
      const agent = await ProtocolAgent.connect(fleet.controller.url);
      await agent.hello(null, { host: 'raw1' });
      assert.equal((await agent.nextError(0)).code, 'unauthorized');
      assert.equal(await agent.closed(), 4004);
      assert.equal((await fleet.host('raw1')).status, 'never_seen');
    });

    it('answers frames it cannot use, in order, without dropping the connection', async () => {
      const agent = await ProtocolAgent.connect(fleet.controller.url);
      let mark = agent.received.length;
      agent.socket.send(JSON.stringify({ type: 'heartbeat', seq: 1 }));
      assert.equal((await agent.nextError(mark)).code, 'hello_required');

      await agent.hello(raw1);
      await agent.next('welcome');

      mark = agent.received.length;
      agent.socket.send('{"type": "facts", ');
      assert.equal((await agent.nextError(mark)).code, 'malformed_message');

      mark = agent.received.length;
      agent.socket.send(JSON.stringify({ type: 'self.destruct' }));
      assert.equal((await agent.nextError(mark)).code, 'unknown_message_type');

      mark = agent.received.length;
      agent.socket.send(
        JSON.stringify({ type: 'heartbeat', seq: 2, padding: 'x'.repeat(1_500_000) }),
      );
      assert.equal((await agent.nextError(mark)).code, 'message_too_large');

      mark = agent.received.length;
      agent.socket.send(JSON.stringify({ type: 'deploy.result', deploymentId: 'nope' }));
      assert.equal((await agent.nextError(mark)).code, 'invalid_message');

      assert.equal(agent.socket.readyState, WebSocket.OPEN, 'the connection survives bad frames');
      const host = await fleet.host('raw1');
      assert.equal(host.status, 'online');
      agent.socket.close();
    });

    it('reports a protocol version mismatch and closes the connection', async () => {
      const agent = await ProtocolAgent.connect(fleet.controller.url);
      // As an agent of protocol 1 says hello: no answer to the challenge at all.
      await agent.hello(null, { host: 'raw1', protocolVersion: PROTOCOL_VERSION - 1 });
      const error = await agent.nextError(0);
      assert.equal(error.code, 'protocol_version_mismatch');
      assert.match(error.message, /protocol version mismatch/);
      await JsonClient.until(async () => agent.closeCode, 'the connection to close');
      assert.equal(agent.closeCode, 4000);
    });

    it('flags an agent older than the controller', async () => {
      const old1 = await enrolled('old1');
      const agent = await ProtocolAgent.connect(fleet.controller.url);
      await agent.hello(old1, { agentVersion: '0.0.9' });
      const host = await fleet.waitForHost('old1', (h) => h.status === 'online');
      assert.equal(host.agentVersion, '0.0.9');
      assert.equal(host.agentOutdated, true);
      agent.socket.close();
    });

    it("refuses a hello for another host than the key's", async () => {
      const agent = await ProtocolAgent.connect(fleet.controller.url);
      await agent.hello(raw1, { host: 'someone-else' });
      assert.equal((await agent.nextError(0)).code, 'host_mismatch');
    });

    it('refuses to deploy to a monitor-only host (controller side)', async () => {
      await fleet.register('imac0', 'monitor');
      const response = await fleet.deploy({
        host: 'imac0',
        storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-imac0',
      });
      assert.equal(response.status, 409);
      assert.equal(response.body.error.code, 'host_not_managed');
    });

    it('has the agent refuse a deployment when it runs in monitor mode', async () => {
      // The registry says managed, the agent itself is configured monitor-only: it must refuse.
      const agent = await fleet.addAgent('watcher', { mode: 'managed', agentMode: 'monitor' });
      const flake = join(fleet.dir, 'flake');
      await writeSandboxFlake(flake, [{ name: 'watcher' }]);
      const storePath = await buildHost(`path:${flake}`, 'watcher');
      const created = await fleet.deploy({
        host: 'watcher',
        storePath,
      });
      assert.equal(created.status, 201);
      const done = await fleet.waitForDeployment(created.body.id);
      assert.equal(done.status, 'failed');
      assert.equal(done.errorCode, 'host_not_managed');
      await assert.rejects(
        import('node:fs/promises').then((fs) => fs.lstat(agent.paths.currentSystemLink)),
      );
    });

    it('answers unknown hosts and deployments with their not-found codes', async () => {
      const host = await fleet.api.get<{ error: ErrorBody }>('/api/v1/hosts/nobody');
      assert.equal(host.status, 404);
      assert.equal(host.body.error.code, 'host_not_found');
      const deployment = await fleet.api.get<{ error: ErrorBody }>('/api/v1/deployments/d-none');
      assert.equal(deployment.status, 404);
      assert.equal(deployment.body.error.code, 'deployment_not_found');
    });

    it('is still healthy and serves its OpenAPI document', async () => {
      const health = await fleet.api.get<{ status: string; database: string }>('/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.body.database, 'ok');
      assert.ok(fleet.controller.process.running, 'the controller process is alive');
      const openapi = await new JsonClient(fleet.controller.url).get<{
        paths: Record<string, unknown>;
      }>('/api/v1/openapi.json');
      assert.equal(openapi.status, 200);
      assert.ok('/api/v1/deployments/{id}' in openapi.body.paths);
    });
  },
);
