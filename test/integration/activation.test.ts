import assert from 'node:assert/strict';
import { readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Deployment, Host } from '@flotilla/protocol';
import { buildHost, writeHost, writeSandboxFlake, type SandboxHostSpec } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

/**
 * Safe activation against real agents and real Nix: every scenario asserts the sandboxed
 * host's own profile and current-system link, not only what the API says.
 */
describe('safe activation: confirm, roll back, never strand a host', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let flake: string;
  const stamp = Date.now();

  /** Builds a version of a host's system from the test flake. */
  const build = async (spec: SandboxHostSpec): Promise<string> => {
    await writeHost(flake, spec);
    return buildHost(`path:${flake}`, spec.name);
  };
  const deploy = async (
    host: string,
    storePath: string,
  ): Promise<Deployment & { log: { line: string }[] }> => {
    const created = await fleet.deploy({ host, storePath });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return fleet.waitForDeployment(created.body.id, 90_000);
  };
  const links = async (host: string) => {
    const paths = fleet.agents.get(host)!.paths;
    return {
      current: await realpath(paths.currentSystemLink),
      profile: await realpath(paths.profile),
    };
  };

  before(async () => {
    fleet = await FleetFixture.start('activation', {
      config: () => ({
        deployments: { confirmTimeoutSeconds: 15, queueExpirySeconds: 8 },
      }),
    });
    flake = join(fleet.dir, 'flake');
    const names = ['h1', 'checked', 'offline'];
    await writeSandboxFlake(
      flake,
      names.map((name) => ({ name, version: `${stamp}-0` })),
    );
    for (const name of names) {
      await fleet.addAgent(name, {
        initialSystem: await buildHost(`path:${flake}`, name),
        // Health checks belong to the host's own agent config, never to the controller's.
        ...(name === 'checked'
          ? {
              healthChecks: [
                {
                  kind: 'command' as const,
                  argv: ['test', '-e', '/nonexistent/flotilla-health'],
                  timeoutSeconds: 5,
                },
              ],
            }
          : {}),
      });
    }
  });

  after(async () => {
    await fleet?.stop();
  });

  it('switches test-first, is confirmed, then makes it permanent', async () => {
    const before = await links('h1');
    const next = await build({ name: 'h1', version: `${stamp}-1` });
    const done = await deploy('h1', next);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.previousSystem, before.current);
    assert.ok(
      done.log.some((l) => l.line.includes('confirmed')),
      'the controller confirmed it',
    );
    assert.deepEqual(await links('h1'), { current: next, profile: next });
  });

  for (const exitCode of [2, 4]) {
    it(`rolls back to the exact previous system when activation exits ${exitCode}`, async () => {
      const before = await links('h1');
      const broken = await build({ name: 'h1', version: `${stamp}-exit${exitCode}`, exitCode });
      const done = await deploy('h1', broken);
      assert.equal(done.status, 'rolled_back', JSON.stringify(done));
      assert.match(done.errorMessage ?? '', new RegExp(`exited ${exitCode}`));
      assert.deepEqual(await links('h1'), before, 'current-system and profile are back');
    });
  }

  it('treats exit code 100 as "reboot required", not as a failure', async () => {
    const next = await build({ name: 'h1', version: `${stamp}-reboot`, exitCode: 100 });
    const done = await deploy('h1', next);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.rebootRequired, true);
    assert.equal((await links('h1')).profile, next, 'the boot default is the new system');
  });

  it('rolls back when a health check fails', async () => {
    const before = await links('checked');
    const next = await build({ name: 'checked', version: `${stamp}-1` });
    const done = await deploy('checked', next);
    assert.equal(done.status, 'rolled_back', JSON.stringify(done));
    assert.match(done.errorMessage ?? '', /health/i);
    assert.deepEqual(await links('checked'), before);
  });

  it('treats deploying the running system as a no-op success', async () => {
    const { current } = await links('h1');
    const done = await deploy('h1', current);
    assert.equal(done.status, 'succeeded');
    assert.ok(done.log.some((l) => l.line.includes('nothing to do')));
  });

  it('rolls back by hand to an earlier generation', async () => {
    const host = await fleet.waitForHost('h1', (h) => (h.facts?.generations.length ?? 0) >= 2);
    const current = host.facts?.generations.find((g) => g.current);
    const earlier = host.facts?.generations.find((g) => g.number < (current?.number ?? 0));
    assert.ok(current && earlier, JSON.stringify(host.facts?.generations));
    const created = await fleet.rollback('h1', {
      generation: earlier.number,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.kind, 'rollback');
    const done = await fleet.waitForDeployment(created.body.id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal((await links('h1')).current, earlier.path);
  });

  it('queues a deployment for an offline host and applies it when the host is back', async () => {
    const agent = fleet.agents.get('offline')!;
    await agent.process.stop();
    await fleet.waitForHost('offline', (h: Host) => h.status === 'offline', 30_000);
    const next = await build({ name: 'offline', version: `${stamp}-1` });
    const created = await fleet.deploy({
      host: 'offline',
      storePath: next,
    });
    assert.equal(created.body.status, 'queued');
    await fleet.launchAgent('offline');
    const done = await fleet.waitForDeployment(created.body.id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal((await links('offline')).current, next);
  });

  it('ends a deployment expired when its host stays away past the expiry', async () => {
    const agent = fleet.agents.get('offline')!;
    await agent.process.stop();
    await fleet.waitForHost('offline', (h: Host) => h.status === 'offline', 30_000);
    const next = await build({ name: 'offline', version: `${stamp}-2` });
    const created = await fleet.deploy({
      host: 'offline',
      storePath: next,
    });
    const done = await fleet.waitForDeployment(created.body.id, 30_000);
    assert.equal(done.status, 'expired');
    await fleet.launchAgent('offline');
    await fleet.waitForHost('offline', (h: Host) => h.status === 'online');
    assert.notEqual(
      (await links('offline')).current,
      next,
      'an expired deployment is never applied',
    );
    assert.ok(await readlink(fleet.agents.get('offline')!.paths.currentSystemLink));
  });
});

describe('reboot on request', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;

  before(async () => {
    fleet = await FleetFixture.start('reboot');
  });

  after(async () => {
    await fleet?.stop();
  });

  it('reboots a managed host and hears back after the boot (a new boot id)', async () => {
    const flake = join(fleet.dir, 'flake');
    await writeSandboxFlake(flake, [{ name: 'rb1', version: `${Date.now()}` }]);
    await fleet.addAgent('rb1', {
      initialSystem: await buildHost(`path:${flake}`, 'rb1'),
    });
    const before = (await fleet.host('rb1')).facts?.bootId;
    assert.ok(before);
    const unconfirmed = await fleet.api.post<{ error: { code: string } }>(
      '/api/v1/hosts/rb1/reboot',
      { confirm: 'rb2' },
    );
    assert.equal(unconfirmed.body.error.code, 'confirmation_required');
    const answer = await fleet.api.post<{ requestId: string }>('/api/v1/hosts/rb1/reboot', {
      confirm: 'rb1',
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    const after = await fleet.waitForHost('rb1', (h) => h.facts?.bootId !== before, 30_000);
    assert.notEqual(after.facts?.bootId, before);
    await fleet.register('watch-only', 'monitor');
    const refused = await fleet.api.post<{ error: { code: string } }>(
      '/api/v1/hosts/watch-only/reboot',
      { confirm: 'watch-only' },
    );
    assert.equal(refused.body.error.code, 'host_not_managed');
  });
});
