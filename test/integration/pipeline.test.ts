import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  Build,
  BuildList,
  FlakeHostList,
  Preview,
  Release,
  ReleaseList,
  Revision,
} from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

const HOSTS = [
  { name: 'alpha', version: '1' },
  { name: 'beta', version: '1' },
  { name: 'gamma', version: '1' },
  { name: 'mac', kind: 'darwin' as const },
];

describe('git pipeline: a push becomes exactly the releases it should', () => {
  let fleet: FleetFixture;
  let repo: GitFlakeRepo;

  const releases = async (host?: string) =>
    (await fleet.api.get<ReleaseList>(`/api/v1/releases${host ? `?host=${host}` : ''}`)).body
      .releases;
  const builds = async () =>
    (await fleet.api.get<BuildList>('/api/v1/builds?limit=500')).body.builds;
  const sync = async () => {
    const response = await fleet.api.post<{ newRevisions: Revision[] }>(
      '/api/v1/repository/sync',
      {},
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.newRevisions;
  };
  /** Waits until the revision is evaluated and every build it queued has ended. */
  const settled = async (revisionId: string): Promise<Revision> => {
    return JsonClient.until(
      async () => {
        const revision = (await fleet.api.get<Revision>(`/api/v1/revisions/${revisionId}`)).body;
        if (revision.status === 'pending' || revision.status === 'evaluating') return undefined;
        const own = (await builds()).filter((b) => b.revisionId === revisionId);
        if (own.some((b) => b.status === 'queued' || b.status === 'running')) return undefined;
        const ready = await releases();
        if (ready.some((r) => r.status === 'publishing')) return undefined;
        return revision;
      },
      `revision ${revisionId} to settle`,
      60_000,
    );
  };

  before(async () => {
    fleet = await FleetFixture.start('pipeline', {
      config: async (dir) => {
        repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(repo.work, HOSTS);
        await writeFile(join(repo.work, 'README.md'), '# fleet\n');
        await repo.commit('initial fleet');
        await repo.push();
        return { repository: { url: repo.bare, branch: 'main', pollIntervalSeconds: 3600 } };
      },
    });
    await fleet.addAgent('alpha');
    await fleet.register('ghost');
  });

  after(async () => {
    await fleet?.stop();
  });

  it('builds every host of the first revision and makes one release each', async () => {
    const first = await JsonClient.until(async () => {
      const list = (await fleet.api.get<{ revisions: Revision[] }>('/api/v1/revisions')).body;
      return list.revisions[0];
    }, 'the startup sync to record the first revision');
    const revision = await settled(first.id);
    assert.equal(revision.status, 'evaluated');
    const all = await releases();
    assert.deepEqual(all.map((r) => r.host).sort(), ['alpha', 'beta', 'gamma']);
    for (const release of all) {
      assert.equal(release.status, 'ready');
      assert.equal(release.commitMessage.trim(), 'initial fleet');
      assert.match(release.commitAuthor, /Flotilla Test/);
      assert.match(release.storePath, /^\/nix\/store\/[a-z0-9]{32}-nixos-system-/);
      assert.ok((release.closureSize ?? 0) > 0);
      assert.equal(release.previousReleaseId, null);
    }
  });

  it('shows flake hosts without an agent as discovered and registered hosts missing from the flake', async () => {
    const list = (await fleet.api.get<FlakeHostList>('/api/v1/flake/hosts')).body;
    const byName = new Map(list.hosts.map((h) => [h.name, h]));
    assert.equal(byName.get('alpha')?.discovered, false);
    assert.equal(byName.get('beta')?.discovered, true);
    assert.equal(byName.get('mac')?.kind, 'darwin');
    assert.equal(byName.get('ghost')?.missingFromFlake, true);
  });

  it('rebuilds only the host whose derivation changed', async () => {
    const before = await releases();
    const buildsBefore = (await builds()).length;
    await writeHost(repo.work, { name: 'beta', version: '2' });
    await repo.commit('beta: bump to 2');
    await repo.push();
    const [revision] = await sync();
    assert.ok(revision, 'the sync recorded the new head');
    await settled(revision.id);

    const newBuilds = (await builds()).slice(0, (await builds()).length - buildsBefore);
    assert.deepEqual(
      newBuilds.map((b) => b.host),
      ['beta'],
    );
    const beta = await releases('beta');
    assert.equal(beta.length, 2);
    const [newest, older] = beta as [Release, Release];
    assert.equal(newest.revisionId, revision.id);
    assert.equal(newest.previousReleaseId, older.id);
    assert.equal(older.status, 'superseded', 'an undeployed older release is superseded');
    const untouched = before.filter((r) => r.host !== 'beta');
    for (const release of untouched) {
      assert.equal(
        (await fleet.api.get<Release>(`/api/v1/releases/${release.id}`)).body.status,
        'ready',
      );
    }
  });

  it('does nothing for a commit that touches no host', async () => {
    const buildsBefore = (await builds()).length;
    const releasesBefore = (await releases()).length;
    await writeFile(join(repo.work, 'README.md'), '# fleet\n\nnotes only\n');
    await repo.commit('docs only');
    await repo.push();
    const [revision] = await sync();
    assert.ok(revision);
    assert.equal((await settled(revision.id)).status, 'evaluated');
    assert.equal((await builds()).length, buildsBefore, 'no build');
    assert.equal((await releases()).length, releasesBefore, 'no release');
  });

  it('stores the Nix error of a broken expression on the revision', async () => {
    await writeFile(join(repo.work, 'hosts', 'gamma.nix'), '{ version = "3"; exitCode = 0 ');
    await repo.commit('broken gamma');
    await repo.push();
    const [revision] = await sync();
    assert.ok(revision);
    const settledRevision = await settled(revision.id);
    assert.equal(settledRevision.status, 'failed');
    assert.match(settledRevision.errorText ?? '', /error/i);
    // Fix it again for the tests that follow.
    await writeHost(repo.work, { name: 'gamma', version: '1' });
    await repo.commit('fix gamma');
    await repo.push();
    const [fixed] = await sync();
    assert.ok(fixed);
    assert.equal((await settled(fixed.id)).status, 'evaluated');
  });

  it('previews a pull request: lists exactly the hosts it changes and never releases them', async () => {
    const releasesBefore = (await releases()).length;
    await writeHost(repo.work, { name: 'alpha', version: '9' });
    await repo.commit('alpha: try version 9');
    await repo.pushRef('refs/pull/7/head');
    await repo.git(repo.work, ['reset', '--quiet', '--hard', 'HEAD~1']);

    const created = await fleet.api.post<{ revision: Revision }>('/api/v1/previews', {
      ref: 'refs/pull/7/head',
    });
    assert.ok([200, 201].includes(created.status), JSON.stringify(created.body));
    const id = created.body.revision.id;
    const preview = await JsonClient.until(
      async () => {
        const body = (await fleet.api.get<Preview>(`/api/v1/previews/${id}`)).body;
        return body.status === 'ready' || body.status === 'failed' ? body : undefined;
      },
      'the preview to be built',
      60_000,
    );
    assert.equal(preview.status, 'ready');
    assert.deepEqual(
      preview.hosts.filter((h) => h.changed).map((h) => h.host),
      ['alpha'],
    );
    assert.deepEqual(
      preview.hosts.filter((h) => !h.changed).map((h) => h.host),
      ['beta', 'gamma'],
    );
    assert.match(preview.summary, /^rebuilds 1 of 3 hosts/);
    const alpha = preview.hosts.find((h) => h.host === 'alpha');
    assert.equal(alpha?.buildStatus, 'succeeded');
    assert.notEqual(alpha?.deltaBytes, null);
    assert.equal((await releases()).length, releasesBefore, 'a preview never becomes a release');
  });

  it('keeps the Nix error of a failed build first and retries it as a new attempt', async () => {
    await writeHost(repo.work, { name: 'gamma', version: '4', buildFails: true });
    await repo.commit('gamma: does not build');
    await repo.push();
    const [revision] = await sync();
    assert.ok(revision);
    await settled(revision.id);
    const failed = (await builds()).find((b) => b.revisionId === revision.id);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.errorSummary ?? '', /does not build \(a deliberate failure\)/);
    const retried = await fleet.api.post<Build>(`/api/v1/builds/${failed?.id}/retry`, {});
    assert.equal(retried.status, 201);
    assert.equal(retried.body.attempt, 2);
    const conflict = await fleet.api.post<{ error: { code: string } }>(
      `/api/v1/builds/${failed?.id}/cancel`,
      {},
    );
    assert.equal(conflict.body.error.code, 'build_not_cancellable');
  });

  it('deploys a release through the existing deployment API', async () => {
    const [alpha] = await releases('alpha');
    assert.ok(alpha);
    const created = await fleet.deploy({
      host: 'alpha',
      releaseId: alpha.id,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.storePath, alpha.storePath);
    assert.equal(created.body.releaseId, alpha.id);
    const done = await fleet.waitForDeployment(created.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(
      (await fleet.api.get<Release>(`/api/v1/releases/${alpha.id}`)).body.status,
      'deployed',
    );
    const wrongHost = await fleet.deploy({
      host: 'alpha',
      releaseId: (await releases('beta'))[0]?.id,
    });
    assert.equal(wrongHost.body.error.code, 'validation_failed');
  });
});
