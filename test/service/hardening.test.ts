import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FlotillaError, type RebootRequest } from '@flotilla/protocol';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet } from './service-fixture.js';

for (const engine of testDatabases()) {
  describe(`hardening against forged agent messages (${engine.name})`, { timeout: 60_000 }, () => {
    let database: EmptyDatabase;
    let fleet: ServiceFleet;

    before(async () => {
      database = await engine.create();
      fleet = await ServiceFleet.start(database);
      await fleet.addHost('hsb1');
      await fleet.addHost('gpc0');
    });
    after(async () => {
      await fleet?.stop();
      await database?.remove();
    });

    const rebootEvents = async () =>
      (await fleet.services.store.events.list({ limit: 500 }))
        .filter((e) => e.kind === 'host.rebooted' || e.kind === 'host.reboot_failed')
        .map((e) => ({
          host: e.host_name,
          kind: e.kind,
          data: JSON.parse(e.data_json ?? '{}') as unknown,
        }));

    const refused = (error: unknown) => {
      assert.ok(error instanceof FlotillaError);
      assert.equal(error.code, 'reboot_not_requested');
      return true;
    };

    it('takes a reboot result only for a reboot asked of that host, once', async () => {
      const { reboots } = fleet.services;
      // Nobody asked: a forged result writes nothing.
      for (const requestId of ['rb-forged', 'x'.repeat(64)]) {
        await assert.rejects(
          reboots.onResult('hsb1', { type: 'reboot.result', requestId, ok: true, error: null }),
          refused,
        );
      }
      assert.deepEqual(await rebootEvents(), []);

      const answer = await reboots.request('hsb1', 'admin');
      const sent = fleet.agent('hsb1').sent.at(-1) as RebootRequest;
      assert.deepEqual(sent, { type: 'reboot.request', requestId: answer.requestId });
      const result = {
        type: 'reboot.result',
        requestId: answer.requestId,
        ok: true,
        error: null,
      } as const;
      // Another host cannot answer it.
      await assert.rejects(reboots.onResult('gpc0', result), refused);
      await reboots.onResult('hsb1', result);
      // Nor can the same answer be replayed.
      await assert.rejects(reboots.onResult('hsb1', result), refused);
      assert.deepEqual(await rebootEvents(), [
        { host: 'hsb1', kind: 'host.rebooted', data: { requestId: answer.requestId, error: null } },
      ]);
    });

    it('forgets a request that never reached the host', async () => {
      const { reboots, presence } = fleet.services;
      presence.disconnected('gpc0', fleet.agent('gpc0'), 'test');
      await assert.rejects(reboots.request('gpc0', 'admin'), /offline/);
      const requested = (
        await fleet.services.store.events.list({ kind: 'host.reboot_requested', limit: 10 })
      ).filter((e) => e.host_name === 'gpc0');
      assert.equal(requested.length, 1, 'the request is in the audit log');
      const { requestId } = JSON.parse(requested[0]?.data_json ?? '{}') as { requestId: string };
      await assert.rejects(
        reboots.onResult('gpc0', { type: 'reboot.result', requestId, ok: true, error: null }),
        refused,
      );
    });

    it('expires a request the host never answered within a week', async () => {
      const { reboots } = fleet.services;
      const answer = await reboots.request('hsb1', 'admin');
      fleet.clock.advance(8 * 86_400_000);
      await assert.rejects(
        reboots.onResult('hsb1', {
          type: 'reboot.result',
          requestId: answer.requestId,
          ok: true,
          error: null,
        }),
        refused,
      );
    });
  });
}
