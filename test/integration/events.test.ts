import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeploymentWithLog } from '@flotilla/protocol';
import { buildHost, EventStreamClient, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

describe(
  'live events over real HTTP: a real agent, a real deployment, a controller restart',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;
    const streams: EventStreamClient[] = [];
    const subscribe = async () => {
      const stream = await EventStreamClient.open(`${fleet.controller.url}/api/v1/events`, {
        authorization: `Bearer ${fleet.controller.adminToken}`,
      });
      streams.push(stream);
      assert.equal(stream.status, 200, stream.body ?? '');
      return stream;
    };

    before(async () => {
      fleet = await FleetFixture.start('events');
    });
    after(async () => {
      for (const stream of streams) stream.close();
      await fleet?.stop();
    });

    it('shows a host coming online and a deployment with its log lines as they happen', async () => {
      const stream = await subscribe();
      const ready = await stream.next((e) => e.type === 'ready', 'ready');
      assert.match(ready.id ?? '', /^[0-9]+$/);

      await fleet.addAgent('epsilon');
      await stream.next(
        (e) => e.type === 'hosts.changed' && e.names.includes('epsilon'),
        'hosts.changed naming epsilon',
      );
      assert.equal((await fleet.host('epsilon')).status, 'online');

      const flake = join(fleet.dir, 'flake');
      await writeSandboxFlake(flake, [{ name: 'epsilon', version: '2' }]);
      const storePath = await buildHost(`path:${flake}`, 'epsilon');
      const created = await fleet.deploy({ host: 'epsilon', storePath });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      const firstLine = await stream.next(
        (e) => e.type === 'deployment.log' && e.deploymentId === id,
        'a log line of the deployment',
      );
      const done = await stream.next(
        (e) => e.type === 'deployment.changed' && e.id === id && e.status === 'succeeded',
        'the deployment succeeding',
      );
      assert.ok(
        stream.events.indexOf(firstLine) < stream.events.indexOf(done),
        'log lines arrive while it runs',
      );

      const stored = await fleet.api.get<DeploymentWithLog>(`/api/v1/deployments/${id}`);
      const streamed = stream
        .all('deployment.log')
        .filter((e) => e.deploymentId === id)
        .map(({ seq, at, stream: s, line }) => ({ seq, at, stream: s, line }));
      assert.deepEqual(streamed, stored.body.log, 'every stored line, live, in order');
      const statuses = stream
        .all('deployment.changed')
        .filter((e) => e.id === id)
        .map((e) => e.status);
      assert.equal(statuses[0], 'approved', 'a deploy by a person is their approval');
      assert.ok(statuses.includes('activating') && statuses.includes('confirming'));
      assert.equal(statuses.at(-1), 'succeeded');
    });

    it('ends the stream when the controller stops, and a new one starts with a new controller id', async () => {
      const [stream] = streams;
      assert.ok(stream);
      const before = stream.all('ready')[0]?.controllerId;
      assert.ok(before);

      const exitCode = await fleet.restartController();
      assert.equal(exitCode, 0, 'an open event stream does not hold up a clean stop');
      await stream.end();

      const again = await subscribe();
      const ready = await again.next((e) => e.type === 'ready', 'ready after the restart');
      assert.ok(ready.event.type === 'ready');
      assert.notEqual(ready.event.controllerId, before, 'a restart reads as a new controller');
      // Its reconnect, or (had it reconnected before this subscribed) its next heartbeat.
      await again.next(
        (e) => e.type === 'hosts.changed' && e.names.includes('epsilon'),
        'epsilon reconnecting',
        45_000,
      );
      assert.equal((await fleet.host('epsilon')).status, 'online');
    });
  },
);
