import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet, storePath } from './service-fixture.js';

for (const engine of testDatabases()) {
  describe(`the build queue and the pipeline (${engine.name})`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase;
    let fleet: ServiceFleet;

    before(async () => {
      database = await engine.create();
      fleet = await ServiceFleet.start(database);
      await fleet.addHost('alpha');
      await fleet.addHost('beta');
    });
    after(async () => {
      await fleet?.stop();
      await database?.remove();
    });

    const buildsOf = async (host: string) => fleet.services.store.builds.list({ host, limit: 50 });

    it('builds only what changed, releases it, and offers it for approval', async () => {
      const revision = await fleet.commit({ alpha: 'alpha-1', beta: 'beta-1' });
      assert.equal((await buildsOf('alpha')).length, 1);
      const release = await fleet.services.store.releases.findForHostRevision('alpha', revision);
      assert.equal(release?.status, 'ready');
      assert.equal(release?.store_path, `${storePath('alpha-1')}-out`);
      const approvals = (await fleet.services.approvals.pending()).approvals;
      assert.deepEqual(approvals.map((a) => a.host).sort(), ['alpha', 'beta']);

      await fleet.commit({ beta: 'beta-2' });
      assert.equal((await buildsOf('alpha')).length, 1, 'alpha did not change');
      assert.equal((await buildsOf('beta')).length, 2);
      const beta = (await fleet.services.approvals.pending()).approvals.filter(
        (a) => a.host === 'beta',
      );
      assert.equal(beta.length, 1, 'the newer release replaced the older one in the inbox');
    });

    it('does not rebuild a failed derivation on a commit that does not change it; a retry does', async () => {
      fleet.nix.failing.add(`${storePath('alpha-2')}.drv`);
      const broken = await fleet.commit({ alpha: 'alpha-2' });
      const [failed] = await buildsOf('alpha');
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.revision_id, broken);
      assert.match(failed?.error_summary ?? '', /builder failed/);
      assert.equal(
        await fleet.services.store.releases.findForHostRevision('alpha', broken),
        undefined,
      );

      await fleet.commit({});
      assert.equal((await buildsOf('alpha')).length, 2, 'no new build for alpha');

      fleet.nix.failing.clear();
      const retry = await fleet.services.pipeline.builds.retry(failed.id, 'ada');
      assert.equal(retry.attempt, 2);
      await fleet.settle();
      const [latest] = await buildsOf('alpha');
      assert.equal(latest?.status, 'succeeded');
      const release = await fleet.services.store.releases.latestForHost('alpha');
      assert.equal(release?.store_path, `${storePath('alpha-2')}-out`);
    });

    it('cancels a queued build', async () => {
      await fleet.services.pipeline.queue.stop();
      // A stopped queue takes no work: the commit's build stays queued.
      await fleet.services.store.revisions.insertIfAbsent({
        id: 'rvcancel',
        repository_id: 'default',
        sha: 'c'.repeat(40),
        ref: 'refs/heads/main',
        kind: 'branch',
        message: 'queued only',
        author: 'Ada',
        committed_at: fleet.clock.now().toISOString(),
        discovered_at: fleet.clock.now().toISOString(),
        status: 'pending',
        error_text: null,
        evaluation_json: null,
        evaluated_at: null,
        base_revision_id: null,
      });
      fleet.nix.hosts = { ...fleet.nix.hosts, beta: 'beta-3' };
      await fleet.services.pipeline.pipeline.onRevision('rvcancel');
      const [queued] = await buildsOf('beta');
      assert.equal(queued?.status, 'queued');
      const cancelled = await fleet.services.pipeline.builds.cancel(queued.id, 'ada');
      assert.equal(cancelled.status, 'cancelled');
    });
  });
}
