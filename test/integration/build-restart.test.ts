import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Build, BuildList, BuildLogPage, ReleaseList } from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

describe('the build queue survives a controller crash', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;

  before(async () => {
    fleet = await FleetFixture.start('build-restart', {
      config: async (dir) => {
        const repo = await GitFlakeRepo.create(join(dir, 'github'));
        // A unique version keeps this derivation from being built by an earlier run.
        await writeSandboxFlake(repo.work, [
          { name: 'slow', version: `slow-${Date.now()}`, buildSeconds: 4 },
          { name: 'quick', version: `quick-${Date.now()}` },
        ]);
        await repo.commit('a slow host and a quick one');
        await repo.push();
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          builds: { concurrency: 1 },
        };
      },
    });
  });

  after(async () => {
    await fleet?.stop();
  });

  it('resumes the queue after SIGKILL without losing or duplicating a build', async () => {
    const builds = async () => (await fleet.api.get<BuildList>('/api/v1/builds')).body.builds;
    const running = await JsonClient.until(
      async () => (await builds()).find((b) => b.host === 'slow' && b.status === 'running'),
      'the slow build to start',
    );
    const queuedBefore = (await builds()).filter((b) => b.status === 'queued').map((b) => b.id);

    await fleet.crashAndRestartController();

    const done = await JsonClient.until(
      async () => {
        const all = await builds();
        return all.every((b) => b.status === 'succeeded') ? all : undefined;
      },
      'every build to succeed after the restart',
      60_000,
    );
    assert.equal(
      done.length,
      2,
      `one build per host, no duplicates: ${JSON.stringify(done.map((b) => b.id))}`,
    );
    const slow = done.find((b) => b.host === 'slow') as Build;
    assert.equal(slow.id, running.id, 'the interrupted build itself finished, not a copy');
    for (const id of queuedBefore)
      assert.ok(
        done.some((b) => b.id === id),
        `queued build ${id} ran`,
      );

    const log = (await fleet.api.get<BuildLogPage>(`/api/v1/builds/${slow.id}/log?limit=5000`))
      .body;
    assert.ok(log.lines.some((l) => l.line.includes('controller restarted during this build')));
    const releases = (await fleet.api.get<ReleaseList>('/api/v1/releases')).body.releases;
    assert.deepEqual(releases.map((r) => r.host).sort(), ['quick', 'slow']);
  });
});
