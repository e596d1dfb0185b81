import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditList, Deployment } from '@flotilla/protocol';
import { buildHost, JsonClient, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

// The controller's own host (csb1 runs the controller and an agent): switching it restarts
// the controller in the middle of the activation. The sandboxed system's activation says
// when it restarts services and waits until they are back, as `systemctl restart` does;
// the test restarts its controller process then (same state dir, same port).

describe("deploying to the controller's own host", { timeout: 240_000 }, () => {
  let fleet: FleetFixture;
  let flake: string;
  const stamp = Date.now();
  const initial = new Map<string, string>();

  before(async () => {
    fleet = await FleetFixture.start('own-host', {
      config: () => ({
        deployments: { confirmTimeoutSeconds: 60 },
        hosts: { csb1b: { confirmTimeoutSeconds: 8 } },
      }),
    });
    flake = join(fleet.dir, 'flake');
    await writeSandboxFlake(flake, [
      { name: 'csb1', version: `${stamp}-0` },
      { name: 'csb1b', version: `${stamp}-0` },
    ]);
    for (const name of ['csb1', 'csb1b']) {
      const system = await buildHost(`path:${flake}`, name);
      initial.set(name, system);
      await fleet.addAgent(name, { initialSystem: system });
    }
  });

  after(async () => {
    await fleet?.stop();
  });

  /** Deploys a new system of `host` whose activation signals through a file; returns both. */
  const deployRestarting = async (host: string) => {
    const signal = join(fleet.dir, `${host}-restart`);
    await writeHost(flake, { name: host, version: `${stamp}-1`, activationSignal: signal });
    const storePath = await buildHost(`path:${flake}`, host);
    const created = await fleet.deploy({ host, storePath });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await JsonClient.until(
      async () => (existsSync(signal) ? true : undefined),
      `${host}'s activation to restart its services`,
      60_000,
    );
    return { id: created.body.id, storePath, done: () => writeFile(`${signal}.done`, '') };
  };
  const current = (host: string) => realpath(fleet.agents.get(host)!.paths.currentSystemLink);
  const auditOf = async (host: string, id: string) =>
    (await fleet.api.get<AuditList>(`/api/v1/audit?host=${host}&limit=1000`)).body.entries.filter(
      (e) => e.deploymentId === id,
    );
  /** Nothing recorded twice: no audit entry and no log line of the deployment repeats; returns the entries. */
  const assertNoRepeats = async (
    host: string,
    deployment: Deployment & { log: { line: string }[] },
  ) => {
    const entries = (await auditOf(host, deployment.id)).map(
      (e) => `${e.kind} ${JSON.stringify(e.data)}`,
    );
    assert.deepEqual(entries, [...new Set(entries)], 'no audit entry twice');
    // Each activation (the new system's, a rollback's) ends with the same exit line.
    const lines = deployment.log.map((l) => l.line).filter((l) => !/ exited \d+$/.test(l));
    assert.deepEqual(lines, [...new Set(lines)], 'no log line twice');
    return entries;
  };

  it('confirms once the restarted controller is back, and records it once', async () => {
    const { id, storePath, done } = await deployRestarting('csb1');
    await fleet.restartController();
    await done();
    const finished = await fleet.waitForDeployment(id, 90_000);
    assert.equal(finished.status, 'succeeded', JSON.stringify(finished));
    assert.equal(finished.resultSystem, storePath);
    assert.equal(await current('csb1'), storePath);
    assert.equal(
      finished.log.filter((l) => l.line === 'confirmed by the controller').length,
      1,
      finished.log.map((l) => l.line).join('\n'),
    );
    const entries = await assertNoRepeats('csb1', finished);
    assert.equal(entries.filter((e) => e.startsWith('deployment.succeeded')).length, 1);
  });

  it('rolls back by itself when the controller stays down past the deadline; the controller records it once', async () => {
    const { id, done } = await deployRestarting('csb1b');
    await fleet.stopController();
    await done();
    // The controller is down for longer than csb1b's 8 s confirm deadline.
    await fleet.agents.get('csb1b')!.process.waitForLine(/rolled back/, 60_000);
    assert.equal(await current('csb1b'), initial.get('csb1b'));
    await fleet.startControllerAgain();
    const finished = await fleet.waitForDeployment(id, 60_000);
    assert.equal(finished.status, 'rolled_back', JSON.stringify(finished));
    const entries = await assertNoRepeats('csb1b', finished);
    assert.equal(
      entries.filter((e) => e.startsWith('deployment.rolled_back')).length,
      1,
      entries.join('\n'),
    );
  });
});
