import assert from 'node:assert/strict';
import { readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  DeploymentList,
  ErrorBody,
  Host,
  HostPolicy,
  HostStatusReport,
  PendingApprovalList,
  ReleaseList,
  Revision,
} from '@flotilla/protocol';
import {
  buildHost,
  GitFlakeRepo,
  JsonClient,
  writeHost,
  writeSandboxFlake,
} from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

const HOSTS = ['gpc0', 'csb0', 'hsb0'];

/**
 * Rules that hold, with real agents, real Nix and a real repository: every way to start a
 * deployment passes the same gate, auto must be earned, monitor refuses everything, and a
 * rollback goes to the last good system without stacking generations.
 */
describe('rules that hold, end to end', { timeout: 600_000 }, () => {
  let fleet: FleetFixture;
  let repo: GitFlakeRepo;
  const stamp = Date.now();

  const setVersion = (name: string, version: string) =>
    writeHost(repo.work, { name, version: `${stamp}-${version}` });
  const current = (host: string) => realpath(fleet.agents.get(host)!.paths.currentSystemLink);
  const deploymentsOf = async (host: string) =>
    (await fleet.api.get<DeploymentList>(`/api/v1/deployments?host=${host}`)).body.deployments;
  /** Pushes the working tree and waits until the new revision's releases are ready. */
  const pushAndRelease = async (message: string, changed: string[]): Promise<string> => {
    const sha = await repo.commit(message);
    await repo.push();
    const sync = await fleet.api.post<{ newRevisions: Revision[] }>('/api/v1/repository/sync', {});
    const revision = sync.body.newRevisions[0];
    assert.ok(revision, `the sync recorded ${sha}`);
    await JsonClient.until(
      async () => {
        const releases = (await fleet.api.get<ReleaseList>('/api/v1/releases?limit=500')).body
          .releases;
        return changed.every((h) =>
          releases.some((r) => r.host === h && r.sha === sha && r.status !== 'publishing'),
        )
          ? true
          : undefined;
      },
      `releases of ${message}`,
      90_000,
    );
    return revision.id;
  };

  before(async () => {
    fleet = await FleetFixture.start('rules', {
      config: async (dir) => {
        repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(
          repo.work,
          HOSTS.map((name) => ({ name, version: `${stamp}-0` })),
        );
        await repo.commit('fleet');
        await repo.push();
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          deployments: { confirmTimeoutSeconds: 20 },
          rollout: {
            waves: [
              { name: 'guinea-pig', hosts: ['gpc0'], soakSeconds: 3600 },
              { name: 'critical', hosts: ['csb0', 'hsb0'] },
            ],
          },
          hosts: { hsb0: { graduation: { stableDays: 30 } } },
        };
      },
    });
    const flake = join(fleet.dir, 'initial');
    await writeSandboxFlake(
      flake,
      HOSTS.map((name) => ({ name, version: `${stamp}-init` })),
    );
    for (const name of HOSTS)
      await fleet.addAgent(name, { initialSystem: await buildHost(`path:${flake}`, name) });
  });

  after(async () => {
    await fleet?.stop();
  });

  it('a deploy on a manual host in the last wave approves its pending deployment and waits for the wave; --force with a reason skips it', async () => {
    await setVersion('gpc0', '1');
    await setVersion('csb0', '1');
    await pushAndRelease('gpc0 + csb0: 1', ['gpc0', 'csb0']);
    const before = await current('csb0');
    const pending = (
      await fleet.api.get<PendingApprovalList>('/api/v1/approvals')
    ).body.approvals.find((a) => a.host === 'csb0');
    assert.ok(pending?.releaseId);

    const held = await fleet.deploy({ host: 'csb0', releaseId: pending.releaseId });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    assert.equal(held.body.id, pending.deploymentId, 'the pending deployment, not a second one');
    assert.equal(held.body.status, 'approved');
    assert.match(held.body.holdReason ?? '', /wave guinea-pig has not finished/);
    assert.equal(
      (await deploymentsOf('csb0')).filter((d) =>
        ['awaiting_approval', 'approved', 'queued', 'activating'].includes(d.status),
      ).length,
      1,
      'one deployment of csb0 is open',
    );
    assert.equal(await current('csb0'), before, 'nothing ran on csb0');

    const missingReason = await fleet.deploy({
      host: 'csb0',
      releaseId: pending.releaseId,
      force: true,
    });
    assert.equal(missingReason.status, 400);
    assert.equal(missingReason.body.error.code, 'validation_failed');

    const forced = await fleet.deploy({
      host: 'csb0',
      releaseId: pending.releaseId,
      force: true,
      reason: 'security fix, cannot wait for the guinea pig',
    });
    assert.equal(forced.body.id, pending.deploymentId);
    const done = await fleet.waitForDeployment(pending.deploymentId, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.forceReason, 'security fix, cannot wait for the guinea pig');
    assert.notEqual(await current('csb0'), before);
  });

  it('refuses auto until a host has earned it, unless forced with a reason', async () => {
    const refused = await fleet.api.request<{ error: ErrorBody }>(
      'PUT',
      '/api/v1/hosts/hsb0/policy',
      { policy: 'auto' },
    );
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'graduation_required');
    assert.match(refused.body.error.message, /stable 0\.0 of 30 days/);
    const forced = await fleet.api.request<HostPolicy>('PUT', '/api/v1/hosts/hsb0/policy', {
      policy: 'auto',
      force: true,
      reason: 'the user asked for it',
    });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.policy, 'auto');
    await fleet.api.request('PUT', '/api/v1/hosts/hsb0/policy', { policy: 'manual' });
  });

  it('rolls back to the last good system by switching the profile back, and a second rollback never returns to the bad one', async () => {
    const agent = fleet.agents.get('hsb0')!;
    const initial = await current('hsb0');
    const deployVersion = async (version: string): Promise<string> => {
      await setVersion('hsb0', version);
      const revisionId = await pushAndRelease(`hsb0: ${version}`, ['hsb0']);
      const release = (
        await fleet.api.get<ReleaseList>('/api/v1/releases?host=hsb0&limit=500')
      ).body.releases.find((r) => r.revisionId === revisionId);
      assert.ok(release);
      const created = await fleet.deploy({
        host: 'hsb0',
        releaseId: release.id,
        force: true,
        reason: 'out of wave order for this test',
      });
      const done = await fleet.waitForDeployment(created.body.id, 90_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      // A rollback goes by what the host says it runs: its facts follow the result.
      await fleet.waitForHost('hsb0', (h) => h.facts?.system.current === release.storePath);
      return release.storePath;
    };
    const good = await deployVersion('good');
    const bad = await deployVersion('bad');
    const profileLink = agent.paths.profile;
    assert.equal(await readlink(profileLink), 'system-3-link');

    const first = await fleet.rollback('hsb0', { comment: 'bad is bad' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.storePath, good, 'back to the system last verified before');
    assert.equal((await fleet.waitForDeployment(first.body.id, 90_000)).status, 'succeeded');
    assert.equal(await current('hsb0'), good);
    assert.equal(await readlink(profileLink), 'system-2-link', 'switched back, no copy on top');

    const host = await fleet.waitForHost('hsb0', (h: Host) =>
      (h.facts?.generations ?? []).some((g) => g.current && g.path === good),
    );
    assert.deepEqual(
      host.facts?.generations.map((g) => g.number),
      [3, 2, 1],
      'no generation was added',
    );
    const status = (await fleet.api.get<HostStatusReport>('/api/v1/hosts/hsb0/status')).body;
    assert.equal(status.state, 'pinned', JSON.stringify(status));
    assert.equal(status.pinned?.reason?.includes('manual rollback'), true);
    assert.equal(status.verified?.deploymentId, first.body.id);
    assert.equal(status.running?.storePath, good);
    assert.match(status.summary, /^pinned: runs release \S+ .*verified by deployment/);

    const second = await fleet.rollback('hsb0');
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.notEqual(second.body.storePath, bad, 'never back to the bad system');
    assert.equal(second.body.storePath, initial);
    assert.equal((await fleet.waitForDeployment(second.body.id, 90_000)).status, 'succeeded');
    assert.equal(await readlink(profileLink), 'system-1-link');
  });

  it('monitor is one idea: the host becomes monitor-only and refuses every way to deploy', async () => {
    await setVersion('gpc0', '2');
    await pushAndRelease('gpc0: 2', ['gpc0']);
    const policy = await fleet.api.request<HostPolicy>('PUT', '/api/v1/hosts/gpc0/policy', {
      policy: 'monitor',
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    assert.equal(policy.body.mode, 'monitor');
    const host = await fleet.host('gpc0');
    assert.equal(host.mode, 'monitor');
    assert.ok(
      !(await deploymentsOf('gpc0')).some((d) =>
        ['awaiting_approval', 'approved'].includes(d.status),
      ),
      'its waiting deployment was cancelled',
    );
    const deploy = await fleet.deploy({ host: 'gpc0', storePath: await current('gpc0') });
    assert.equal(deploy.body.error.code, 'host_not_managed');
    const rollback = await fleet.rollback('gpc0');
    assert.equal(rollback.body.error.code, 'host_not_managed');
    assert.match(rollback.body.error.message, /monitor-only/);
    const unknown = await fleet.rollback('nobody');
    assert.equal(unknown.body.error.code, 'host_not_found');
  });
});
