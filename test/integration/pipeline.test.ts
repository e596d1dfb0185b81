import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  Evaluation,
  type AuditList,
  type Build,
  type BuildList,
  type FlakeHostList,
  type Preview,
  type Release,
  type ReleaseList,
  type Revision,
} from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, run, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

/** The `flotilla` command line, run as its own process. */
const CLI = fileURLToPath(new URL('../../../packages/cli/bin/flotilla.js', import.meta.url));

const HOSTS = [
  { name: 'alpha', version: '1' },
  { name: 'beta', version: '1' },
  { name: 'gamma', version: '1' },
  { name: 'mac', kind: 'darwin' as const },
];

describe(
  'git pipeline: a push becomes exactly the releases it should',
  { timeout: 300_000 },
  () => {
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
    const cli = async (...args: string[]) => {
      const result = await run(process.execPath, [CLI, ...args], {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        FLOTILLA_URL: fleet.controller.url,
        FLOTILLA_TOKEN: fleet.controller.adminToken,
        FLOTILLA_CONTEXT_FILE: join(fleet.dir, 'no-contexts.json'),
      });
      return { code: result.code, stdout: result.stdout, stderr: result.stderr };
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

    it('a syntax error in one host file holds back only that host; the others get releases', async () => {
      await writeHost(repo.work, { name: 'alpha', version: '2' });
      await writeHost(repo.work, { name: 'beta', version: '3' });
      // Line 4 is where Nix finds the missing `;`.
      await writeFile(
        join(repo.work, 'hosts', 'gamma.nix'),
        '{\n  version = "3";\n  exitCode = 0\n}\n',
      );
      await repo.commit('alpha, beta: bump; gamma: broken');
      await repo.push();
      const [revision] = await sync();
      assert.ok(revision);
      const settledRevision = await settled(revision.id);
      assert.equal(settledRevision.status, 'evaluated', settledRevision.errorText ?? '');
      const evaluation = Evaluation.parse(settledRevision.evaluation);
      assert.equal(evaluation.evaluatedPerHost, true);
      assert.deepEqual(Object.keys(evaluation.nixos).sort(), ['alpha', 'beta']);
      assert.deepEqual(evaluation.darwin, ['mac']);
      assert.match(evaluation.hostErrors.gamma ?? '', /syntax error/);
      const gamma = evaluation.hostErrorDetails?.gamma;
      assert.equal(gamma?.location?.file, 'hosts/gamma.nix');
      assert.equal(gamma.location.line, 4);
      assert.match(gamma.message, /^syntax error, unexpected '}'/);
      for (const host of ['alpha', 'beta']) {
        const [newest] = await releases(host);
        assert.equal(newest?.revisionId, revision.id, `${host} released from this revision`);
        assert.equal(newest.status, 'ready');
      }
      const own = (await builds()).filter((b) => b.revisionId === revision.id);
      assert.deepEqual(own.map((b) => b.host).sort(), ['alpha', 'beta'], 'no build for gamma');

      const view = await cli('revision', revision.id);
      assert.equal(view.code, 0, view.stderr);
      assert.match(view.stdout, /Hosts:\s+2 evaluated, 1 failed \(evaluated host by host\)/);
      assert.match(
        view.stdout,
        /\n {2}gamma {2}hosts\/gamma\.nix:4:1 {2}syntax error, unexpected '}'/,
      );
    });

    it('fixing the broken host file releases that host too', async () => {
      await writeHost(repo.work, { name: 'gamma', version: '3' });
      await repo.commit('gamma: fixed');
      await repo.push();
      const [revision] = await sync();
      assert.ok(revision);
      const settledRevision = await settled(revision.id);
      assert.equal(settledRevision.status, 'evaluated');
      const evaluation = Evaluation.parse(settledRevision.evaluation);
      assert.deepEqual(evaluation.hostErrors, {});
      assert.equal(evaluation.evaluatedPerHost, false, 'one call again');
      const [gamma] = await releases('gamma');
      assert.equal(gamma?.revisionId, revision.id);
      assert.equal(gamma.status, 'ready');
      const own = (await builds()).filter((b) => b.revisionId === revision.id);
      assert.deepEqual(
        own.map((b) => b.host),
        ['gamma'],
      );
    });

    it('fails the revision with the error when flake.nix itself is broken', async () => {
      const flake = join(repo.work, 'flake.nix');
      const good = await readFile(flake, 'utf8');
      await writeFile(flake, good.replace('outputs = { self }:', 'outputs = { self }: ;'));
      await repo.commit('flake.nix: broken');
      await repo.push();
      const [revision] = await sync();
      assert.ok(revision);
      const settledRevision = await settled(revision.id);
      assert.equal(settledRevision.status, 'failed');
      assert.match(settledRevision.errorText ?? '', /^error: syntax error/);
      assert.match(settledRevision.errorText ?? '', /-source\/flake\.nix:\d+:\d+/);
      await writeFile(flake, good);
      await repo.commit('flake.nix: fixed');
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

    it('keeps the Nix error of a failed build first; a push that does not change it does not rebuild it, a retry does', async () => {
      await writeHost(repo.work, { name: 'gamma', version: '4', buildFails: true });
      await repo.commit('gamma: does not build');
      await repo.push();
      const [revision] = await sync();
      assert.ok(revision);
      await settled(revision.id);
      const failed = (await builds()).find((b) => b.revisionId === revision.id);
      assert.ok(failed);
      assert.equal(failed.status, 'failed');
      assert.match(failed.errorSummary ?? '', /does not build \(a deliberate failure\)/);

      const buildsBefore = (await builds()).length;
      await writeFile(join(repo.work, 'README.md'), '# fleet\n\nmore notes\n');
      await repo.commit('docs only, gamma still broken');
      await repo.push();
      const [docs] = await sync();
      assert.ok(docs);
      const docsRevision = await settled(docs.id);
      assert.equal(
        (await builds()).length,
        buildsBefore,
        'the failed derivation is not built again',
      );
      const evaluation = Evaluation.parse(docsRevision.evaluation);
      assert.deepEqual(evaluation.notRebuilt, {
        gamma: { drvPath: failed.drvPath, failedBuildId: failed.id },
      });
      const events = (
        await fleet.api.get<AuditList>('/api/v1/audit?kind=build.not_rebuilt&host=gamma')
      ).body.entries;
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]?.data, {
        revisionId: docs.id,
        drvPath: failed.drvPath,
        failedBuildId: failed.id,
      });
      const retried = await fleet.api.post<Build>(`/api/v1/builds/${failed.id}/retry`, {});
      assert.equal(retried.status, 201);
      assert.equal(retried.body.attempt, 2);
      assert.equal(retried.body.drvPath, failed.drvPath);
      assert.equal((await builds()).length, buildsBefore + 1, 'the retry is a new build');
      const conflict = await fleet.api.post<{ error: { code: string } }>(
        `/api/v1/builds/${failed.id}/cancel`,
        {},
      );
      assert.equal(conflict.body.error.code, 'build_not_cancellable');
      await settled(revision.id);

      // A changed derivation is built again, whatever happened to the old one.
      await writeHost(repo.work, { name: 'gamma', version: '5' });
      await repo.commit('gamma: builds again');
      await repo.push();
      const [repaired] = await sync();
      assert.ok(repaired);
      await settled(repaired.id);
      const [gamma] = await releases('gamma');
      assert.equal(gamma?.revisionId, repaired.id);
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
  },
);
