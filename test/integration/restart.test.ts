import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '@flotilla/protocol';
import { buildHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

describe(
  'a controller crash loses nothing and agents come back by themselves',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;

    before(async () => {
      fleet = await FleetFixture.start('restart');
      await fleet.addAgent('gamma');
      await fleet.register('delta', 'monitor');
    });

    after(async () => {
      await fleet?.stop();
    });

    it('keeps hosts, deployments and logs across SIGKILL, and the agent reconnects', async () => {
      const flake = join(fleet.dir, 'flake');
      await writeSandboxFlake(flake, [{ name: 'gamma', version: '7' }]);
      const storePath = await buildHost(`path:${flake}`, 'gamma');
      const created = await fleet.deploy({
        host: 'gamma',
        storePath,
      });
      const done = await fleet.waitForDeployment(created.body.id);
      assert.equal(done.status, 'succeeded');
      const tokenBefore = fleet.controller.adminToken;

      await fleet.crashAndRestartController();

      assert.equal(fleet.controller.adminToken, tokenBefore, 'the admin token survives restarts');
      const again = await fleet.api.get<Deployment & { log: unknown[] }>(
        `/api/v1/deployments/${created.body.id}`,
      );
      assert.equal(again.body.status, 'succeeded');
      assert.equal(again.body.resultSystem, storePath);
      assert.equal(again.body.log.length, done.log.length, 'the whole log is still there');

      // The agent reconnects by itself and reports its facts again (the running system).
      const gamma = await fleet.waitForHost(
        'gamma',
        (h) => h.status === 'online' && h.facts?.system.current === storePath,
      );
      assert.equal(gamma.agentVersion, '0.1.0');
      const delta = await fleet.host('delta');
      assert.equal(delta.mode, 'monitor');
      assert.equal(delta.status, 'never_seen');
    });
  },
);
