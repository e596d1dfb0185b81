import assert from 'node:assert/strict';
import { lstat, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildHost, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

/** Fails unless `path` is missing; used to prove a host was left untouched. */
async function assertMissing(path: string): Promise<void> {
  await assert.rejects(lstat(path), { code: 'ENOENT' }, `${path} should not exist`);
}

describe('a real deployment through the API to a sandboxed host', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let flake: string;

  before(async () => {
    fleet = await FleetFixture.start('deploy');
    flake = join(fleet.dir, 'flake');
    await writeSandboxFlake(flake, [
      { name: 'alpha', version: '1' },
      { name: 'beta', version: '1' },
    ]);
    await fleet.addAgent('alpha');
    await fleet.addAgent('beta');
  });

  after(async () => {
    await fleet?.stop();
  });

  it('gives each sandboxed host its own hostname and a machine id it keeps across restarts', async () => {
    const [alpha, beta] = await Promise.all([fleet.host('alpha'), fleet.host('beta')]);
    assert.equal(alpha.facts?.hostname, 'alpha');
    assert.equal(beta.facts?.hostname, 'beta');
    assert.match(alpha.facts?.machineId ?? '', /^[0-9a-f]{32}$/);
    assert.match(beta.facts?.machineId ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(alpha.facts?.machineId, beta.facts?.machineId);
    const betaPaths = fleet.agents.get('beta')!.paths;
    assert.equal(
      (await readFile(betaPaths.machineIdFile, 'utf8')).trim(),
      beta.facts?.machineId,
      'the agent reports the machine id kept in its sandbox',
    );

    const collectedBefore = beta.facts?.collectedAt ?? '';
    await fleet.agents.get('beta')!.process.stop();
    await fleet.launchAgent('beta');
    const restarted = await fleet.waitForHost(
      'beta',
      (h) => h.status === 'online' && (h.facts?.collectedAt ?? '') > collectedBefore,
    );
    assert.equal(restarted.facts?.hostname, 'beta');
    assert.equal(restarted.facts?.machineId, beta.facts?.machineId);
  });

  it('switches alpha to a freshly built system and leaves beta alone', async () => {
    const storePath = await buildHost(`path:${flake}`, 'alpha');
    const created = await fleet.deploy({
      host: 'alpha',
      storePath,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.action, 'switch');

    const done = await fleet.waitForDeployment(created.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.resultSystem, storePath);
    assert.ok(
      done.log.some((l) => l.line.includes('switched alpha to')),
      'activation output is in the log',
    );

    const alpha = fleet.agents.get('alpha')!.paths;
    assert.equal(
      await realpath(alpha.profile),
      storePath,
      'the system profile points at the release',
    );
    assert.equal(await realpath(alpha.currentSystemLink), storePath, 'current-system points at it');

    const beta = fleet.agents.get('beta')!.paths;
    await assertMissing(beta.currentSystemLink);
    await assertMissing(beta.profile);

    const host = await fleet.waitForHost('alpha', (h) => h.facts?.system.current === storePath);
    assert.equal(host.facts?.system.bootDefault, storePath);
    assert.equal(host.facts?.nixosVersion, '1');
  });

  it('rolls back to the previous system when activation exits non-zero, with the output in the log', async () => {
    const alpha = fleet.agents.get('alpha')!.paths;
    const before = await realpath(alpha.profile);
    await writeHost(flake, { name: 'alpha', version: '2-broken', exitCode: 2 });
    const storePath = await buildHost(`path:${flake}`, 'alpha');
    assert.notEqual(storePath, before);

    const created = await fleet.deploy({
      host: 'alpha',
      storePath,
    });
    assert.equal(created.status, 201);
    const done = await fleet.waitForDeployment(created.body.id);
    assert.equal(done.status, 'rolled_back');
    assert.equal(done.exitCode, 2);
    assert.match(done.errorMessage ?? '', /exited 2/);
    assert.ok(
      done.log.some((l) => l.line.includes('activation of alpha failed (exit 2)')),
      'the failing output is stored',
    );
    assert.equal(await realpath(alpha.currentSystemLink), before, 'back on the previous system');
    assert.equal(await realpath(alpha.profile), before);
  });

  it('ends failed when a host with no previous system cannot activate', async () => {
    const beta = fleet.agents.get('beta')!.paths;
    await writeHost(flake, { name: 'beta', version: '2-broken', exitCode: 2 });
    const storePath = await buildHost(`path:${flake}`, 'beta');
    const created = await fleet.deploy({
      host: 'beta',
      storePath,
    });
    const done = await fleet.waitForDeployment(created.body.id);
    assert.equal(done.status, 'failed', JSON.stringify(done));
    assert.equal(done.exitCode, 2);
    await assertMissing(beta.profile);
  });

  it('lists both hosts online with their agent version', async () => {
    const list = await fleet.hosts();
    assert.deepEqual(
      list.hosts.map((h) => [h.name, h.status, h.agentOutdated]),
      [
        ['alpha', 'online', false],
        ['beta', 'online', false],
      ],
    );
    assert.equal(list.counts.online, 2);
    assert.ok(list.hosts.every((h) => h.agentVersion === '0.1.0'));
  });
});
