import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PublishInput } from '@flotilla/controller';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet } from './service-fixture.js';

// A pull request's preview is built on the controller, but what it builds is never signed
// or published: only a release of the tracked branch goes to the cache. One engine: the
// rule is the pipeline's, not the database's.
const [engine] = testDatabases();

describe('previews and the binary cache', { timeout: 60_000 }, () => {
  let database: EmptyDatabase;
  let fleet: ServiceFleet;
  const published: PublishInput[] = [];

  before(async () => {
    assert.ok(engine);
    database = await engine.create();
    fleet = await ServiceFleet.start(database, {
      publisher: { publish: async (input) => void published.push(input) },
    });
    await fleet.addHost('gpc0');
  });
  after(async () => {
    await fleet?.stop();
    await database?.remove();
  });

  it('builds a preview without signing or publishing what it built', async () => {
    const base = await fleet.commit({ gpc0: 'gpc0-v1' });
    assert.deepEqual(
      published.map((p) => p.hostName),
      ['gpc0'],
      'the branch release is published',
    );
    published.length = 0;

    fleet.nix.hosts = { gpc0: 'gpc0-from-a-pull-request' };
    const now = fleet.clock.now().toISOString();
    await fleet.services.store.revisions.insertIfAbsent({
      id: 'rvpreview1',
      repository_id: 'default',
      sha: createHash('sha1').update('pr').digest('hex'),
      ref: 'refs/pull/12/head',
      kind: 'preview',
      message: 'pr 12',
      author: 'Mallory',
      committed_at: now,
      discovered_at: now,
      status: 'pending',
      error_text: null,
      evaluation_json: null,
      evaluated_at: null,
      base_revision_id: base,
    });
    await fleet.services.pipeline.pipeline.onRevision('rvpreview1');
    await fleet.settle();

    const builds = await fleet.services.store.builds.forRevision('rvpreview1');
    assert.deepEqual(
      builds.map((b) => [b.host_name, b.kind, b.status]),
      [['gpc0', 'preview', 'succeeded']],
    );
    assert.ok(builds[0]?.out_path);
    assert.deepEqual(published, [], 'nothing of the preview was signed or published');
    assert.equal(
      await fleet.services.store.releases.findForHostRevision('gpc0', 'rvpreview1'),
      undefined,
      'a preview never becomes a release',
    );
  });
});
