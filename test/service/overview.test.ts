import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetOverview, OverviewHost } from '@flotilla/protocol';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet } from './service-fixture.js';

for (const engine of testDatabases()) {
  describe(`the fleet overview in one answer (${engine.name})`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase;
    let fleet: ServiceFleet;
    let admin: string;

    before(async () => {
      database = await engine.create();
      fleet = await ServiceFleet.start(database, {
        config: { hosts: { beta: { graduation: { stableDays: 3 } } } },
      });
      admin = await fleet.adminToken();
      await fleet.addHost('alpha');
      await fleet.addHost('beta');
      await fleet.addHost('mon', { mode: 'monitor' });
    });
    after(async () => {
      await fleet?.stop();
      await database?.remove();
    });

    const overview = async (token: string | null = admin) => {
      const response = await fleet.controller.app.inject({
        method: 'GET',
        url: '/api/v1/overview',
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
      return response;
    };
    const hostIn = (body: FleetOverview, name: string): OverviewHost => {
      const found = body.hosts.find((h) => h.host.name === name);
      assert.ok(found, `${name} is in the overview`);
      return found;
    };

    it('shows every host, monitor-only ones too, with what waits and what ran', async () => {
      const revision = await fleet.commit({ alpha: 'alpha-1', beta: 'beta-1' });
      const waiting = await fleet.services.approvals.pending();
      const alphaWaiting = waiting.approvals.find((a) => a.host === 'alpha');
      assert.ok(alphaWaiting);
      await fleet.services.approvals.decide(
        {
          decision: 'approve',
          deploymentId: alphaWaiting.deploymentId,
          allowSuperseded: false,
          force: false,
        },
        'ada',
      );
      await fleet.agent('alpha').complete(alphaWaiting.deploymentId);
      await fleet.services.policies.pin('beta', 'ada', 'disk swap on Friday');

      const response = await overview();
      assert.equal(response.statusCode, 200);
      const body = response.json<FleetOverview>();
      assert.deepEqual(body.hosts.map((h) => h.host.name).sort(), ['alpha', 'beta', 'mon']);
      assert.ok(body.headSha, 'the branch head');

      const alpha = hostIn(body, 'alpha');
      assert.equal(alpha.host.sync?.state, 'up_to_date');
      assert.deepEqual(alpha.pendingApprovals, []);
      assert.equal(alpha.openDeployment, null);
      assert.equal(alpha.lastDeployment?.id, alphaWaiting.deploymentId);
      assert.equal(alpha.lastDeployment?.status, 'succeeded');
      assert.equal(alpha.policy, 'manual');

      const beta = hostIn(body, 'beta');
      assert.equal(beta.pendingApprovals.length, 1);
      const betaWaiting = waiting.approvals.find((a) => a.host === 'beta');
      assert.equal(beta.pendingApprovals[0]?.deploymentId, betaWaiting?.deploymentId);
      assert.equal(beta.pendingApprovals[0]?.revisionId, revision);
      assert.equal(beta.openDeployment?.status, 'awaiting_approval');
      assert.equal(beta.lastDeployment, null);
      assert.equal(beta.pinned, true);
      assert.equal(beta.pinReason, 'disk swap on Friday');
      assert.equal(beta.graduation?.requiredDays, 3);
      assert.equal(beta.graduation?.eligible, false);

      const mon = hostIn(body, 'mon');
      assert.equal(mon.host.mode, 'monitor');
      assert.equal(mon.policy, 'monitor');
      assert.equal(mon.graduation, null);
      assert.equal(mon.host.sync?.state, 'unknown');
      assert.equal(mon.host.status, 'online');
    });

    it('is for people who may read the fleet: a viewer yes, nobody without a login', async () => {
      const viewer = await fleet.userWithToken('vera', 'viewer');
      assert.equal((await overview(viewer.token)).statusCode, 200);
      assert.equal((await overview(null)).statusCode, 401);
    });
  });
}
