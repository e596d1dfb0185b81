import assert from 'node:assert/strict';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '@flotilla/protocol';
import { buildHost, JsonClient, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

/** Crashes in the middle of a deployment: the host must end where the report says it is. */
describe(
  'a crash of agent or controller mid-deployment loses nothing',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;
    let flake: string;
    const stamp = Date.now();

    const startSlowDeployment = async (host: string, version: string) => {
      await writeHost(flake, { name: host, version, activationSeconds: 4 });
      const storePath = await buildHost(`path:${flake}`, host);
      const created = await fleet.deploy({ host, storePath });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      // Wait until the activation itself runs (its script sleeps), then crash something.
      await JsonClient.until(
        async () => {
          const body = (
            await fleet.api.get<Deployment & { log: { line: string }[] }>(
              `/api/v1/deployments/${created.body.id}`,
            )
          ).body;
          return body.log.some((l) => l.line.includes(`activating ${host}: 1 of 4 s`))
            ? true
            : undefined;
        },
        'the activation to be under way',
        60_000,
      );
      return { id: created.body.id, storePath };
    };
    const current = (host: string) => realpath(fleet.agents.get(host)!.paths.currentSystemLink);
    const profile = (host: string) => realpath(fleet.agents.get(host)!.paths.profile);

    before(async () => {
      fleet = await FleetFixture.start('activation-restart', {
        config: () => ({ deployments: { confirmTimeoutSeconds: 30 } }),
      });
      flake = join(fleet.dir, 'flake');
      await writeSandboxFlake(flake, [
        { name: 'a1', version: `${stamp}-0` },
        { name: 'c1', version: `${stamp}-0` },
      ]);
      for (const name of ['a1', 'c1']) {
        await fleet.addAgent(name, { initialSystem: await buildHost(`path:${flake}`, name) });
      }
    });

    after(async () => {
      await fleet?.stop();
    });

    it('reports the real outcome after the agent is SIGKILLed during activation', async () => {
      const { id, storePath } = await startSlowDeployment('a1', `${stamp}-1`);
      await fleet.agents.get('a1')!.process.kill();
      await fleet.launchAgent('a1');
      const done = await fleet.waitForDeployment(id, 90_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.equal(await current('a1'), storePath);
      assert.equal(await profile('a1'), storePath);
      // The activation kept running while the agent was dead: its lines were all delivered once.
      const seconds = done.log
        .filter((l) => /activating a1: \d of 4 s/.test(l.line))
        .map((l) => l.line);
      assert.deepEqual(
        seconds,
        [1, 2, 3, 4].map((n) => `activating a1: ${n} of 4 s`),
      );
    });

    it('ends in the state the host really reached after the controller is SIGKILLed', async () => {
      const { id, storePath } = await startSlowDeployment('c1', `${stamp}-1`);
      await fleet.crashAndRestartController();
      const done = await fleet.waitForDeployment(id, 90_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.equal(done.resultSystem, storePath);
      assert.equal(await current('c1'), storePath);
      assert.equal(await profile('c1'), storePath);
    });
  },
);
