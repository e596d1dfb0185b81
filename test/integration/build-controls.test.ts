import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Build, BuildList, BuildLogPage } from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

interface ServerSentEvent {
  id?: string;
  event: string;
  data: string;
}

/** Reads a text/event-stream response until an `end` event (or the stream ends). */
async function readEvents(response: Response): Promise<ServerSentEvent[]> {
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: ServerSentEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let split;
    while ((split = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      if (block.startsWith(':')) continue;
      const event: ServerSentEvent = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(': ');
        const value = rest.join(': ');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.data = value;
      }
      events.push(event);
      if (event.event === 'end') return events;
    }
  }
  return events;
}

describe('build controls: live log stream, log cap, timeout, cancel', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  const stamp = Date.now();
  const buildOf = async (host: string) =>
    JsonClient.until(
      async () => (await fleet.api.get<BuildList>(`/api/v1/builds?host=${host}`)).body.builds[0],
      `a build of ${host}`,
    );

  before(async () => {
    fleet = await FleetFixture.start('build-controls', {
      config: async (dir) => {
        const repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(repo.work, [
          { name: 'chatty', version: `c${stamp}`, buildLogLines: 200, buildSeconds: 2 },
          { name: 'stuck', version: `s${stamp}`, buildSeconds: 120 },
          { name: 'doomed', version: `d${stamp}`, buildSeconds: 120 },
        ]);
        await repo.commit('three builds');
        await repo.push();
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          builds: { concurrency: 3, timeoutSeconds: 10, logLimitBytes: 2048 },
        };
      },
    });
  });

  after(async () => {
    await fleet?.stop();
  });

  it('streams a running build log as server-sent events and caps what it stores', async () => {
    const chatty = await buildOf('chatty');
    const response = await fetch(`${fleet.controller.url}/api/v1/builds/${chatty.id}/log/stream`, {
      headers: { authorization: `Bearer ${fleet.controller.adminToken}` },
    });
    assert.equal(response.status, 200);
    const events = await readEvents(response);
    const lines = events
      .filter((e) => e.event === 'line')
      .map((e) => JSON.parse(e.data) as { seq: number; line: string });
    const end = events.at(-1);
    assert.equal(end?.event, 'end');
    assert.equal((JSON.parse(end?.data ?? '{}') as { status: string }).status, 'succeeded');
    const seqs = lines.map((l) => l.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'lines arrive in order',
    );
    assert.equal(new Set(seqs).size, seqs.length, 'no line twice');
    assert.ok(lines.some((l) => l.line.startsWith('build output line 1 of 200')));
    assert.ok(
      lines.some((l) => l.line.startsWith('[log truncated')),
      'the cap is marked visibly',
    );
    assert.ok(
      !lines.some((l) => l.line.includes('line 200 of 200')),
      'lines past the cap are not stored',
    );

    const build = (await fleet.api.get<Build>(`/api/v1/builds/${chatty.id}`)).body;
    assert.equal(build.logTruncated, true);
    assert.ok(build.logBytes <= 2048, `stored ${build.logBytes} bytes`);
    const page = (await fleet.api.get<BuildLogPage>(`/api/v1/builds/${chatty.id}/log?limit=5000`))
      .body;
    assert.equal(page.truncated, true);
    assert.deepEqual(
      page.lines.map((l) => l.seq),
      seqs,
      `the stream and the stored log agree:\n${JSON.stringify(page.lines.slice(-5))}\n${JSON.stringify(lines.slice(-5))}`,
    );
  });

  it('cancels a running build', async () => {
    const doomed = await JsonClient.until(async () => {
      const build = await buildOf('doomed');
      return build.status === 'running' ? build : undefined;
    }, 'the doomed build to run');
    const cancelled = await fleet.api.post<Build>(`/api/v1/builds/${doomed.id}/cancel`, {});
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(cancelled.body.errorSummary, 'build cancelled');
  });

  it('stops a build that runs past the timeout', async () => {
    const stuck = await JsonClient.until(
      async () => {
        const build = await buildOf('stuck');
        return build.status === 'failed' ? build : undefined;
      },
      'the stuck build to time out',
      40_000,
    );
    assert.match(stuck.errorSummary ?? '', /timed out after 10 s/);
    assert.ok(stuck.startedAt && stuck.finishedAt);
    const seconds = (Date.parse(stuck.finishedAt) - Date.parse(stuck.startedAt)) / 1000;
    assert.ok(seconds < 60, `stopped after ${seconds} s, not after the build's 120 s`);
  });
});
