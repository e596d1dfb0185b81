import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  CreatePreviewResponse,
  ErrorBody,
  Repository,
  Revision,
  SyncResult,
} from '@flotilla/protocol';
import { eventually, RepositoryFixture } from './repository-fixture.js';

const SECRET = 'webhook-secret-for-tests';
const AUTHOR = 'Flotilla Test <test@flotilla.invalid>';

/**
 * Checks that `check` keeps passing for `ms`, looking again and again: for what must not
 * happen (it fails as soon as it does), where a wait on a condition has nothing to wait for.
 */
async function holdsFor(ms: number, check: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  do {
    await check();
    await new Promise((resolve) => setImmediate(resolve));
  } while (Date.now() < until);
}

describe('a repository linked in the config file', { timeout: 300_000 }, () => {
  let fx: RepositoryFixture;
  let firstSha: string;

  before(async () => {
    fx = await RepositoryFixture.start('repository', async (github, dir) => {
      const secretFile = join(dir, 'webhook-secret');
      await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
      return {
        repository: {
          url: github.bare,
          branch: 'main',
          // Polls would race the test's own syncs; startup, webhooks and requests remain.
          pollIntervalSeconds: 3600,
          webhookSecretFile: secretFile,
          previews: {
            refPatterns: ['refs/pull/*/head'],
            autoRefPatterns: ['refs/pull/*/head'],
            autoWhenChanged: ['flake.lock'],
          },
        },
      };
    });
    firstSha = await fx.github.git(fx.github.work, ['rev-parse', 'HEAD']);
  });

  after(async () => {
    await fx?.stop();
  });

  const sync = async (): Promise<SyncResult> => {
    const response = await fx.api.post<SyncResult>('/api/v1/repository/sync', {});
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };

  it('records the branch head at startup and hands it to the pipeline', async () => {
    const [revision] = await eventually(async () => {
      const revisions = await fx.revisions();
      return revisions.length > 0 ? revisions : undefined;
    }, 'the startup sync to record a revision');
    assert.ok(revision);
    assert.equal(revision.sha, firstSha);
    assert.equal(revision.kind, 'branch');
    assert.equal(revision.ref, 'refs/heads/main');
    assert.equal(revision.message, 'first');
    assert.equal(revision.author, AUTHOR);
    assert.equal(revision.baseRevisionId, null);
    const repository = await fx.repository();
    assert.equal(repository.followedSha, firstSha);
    assert.equal(repository.source, 'config');
    assert.equal(repository.locked, true);
    assert.equal(repository.lastFetchError, null);
    assert.equal(repository.forcePushBlocked, null);
    // The pipeline took it: it is no longer waiting (evaluation itself is the pipeline's test).
    await eventually(async () => {
      const current = await fx.api.get<Revision>(`/api/v1/revisions/${revision.id}`);
      return current.body.status !== 'pending' ? true : undefined;
    }, 'the pipeline to take the revision');
  });

  it('records a pushed commit exactly once, however often and concurrently it syncs', async () => {
    const [base] = await fx.revisions();
    const sha = await fx.commitFile('hosts.nix', '{ }\n', 'second\n\nAdds the hosts file.');
    await fx.github.push();
    const result = await sync();
    assert.equal(result.headSha, sha);
    assert.equal(result.newRevisions.length, 1);
    const [revision] = result.newRevisions;
    assert.equal(revision?.sha, sha);
    assert.equal(revision?.message, 'second\n\nAdds the hosts file.');
    assert.equal(revision?.author, AUTHOR);
    assert.equal(revision?.baseRevisionId, base?.id);

    assert.deepEqual((await sync()).newRevisions, []);
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => sync()));
    assert.ok(concurrent.every((r) => r.newRevisions.length === 0));
    assert.equal((await fx.revisions()).length, 2);

    // New work seen by several concurrent syncs is still recorded once.
    await fx.commitFile('hosts.nix', '{ a = 1; }\n', 'third');
    await fx.github.push();
    await Promise.all(Array.from({ length: 6 }, () => sync()));
    assert.equal((await fx.revisions('branch')).length, 3);
    assert.equal(fx.stored().revisions, 3);
  });

  it('refuses to change a link the config file owns', async () => {
    const response = await fx.api.request<{ error: ErrorBody }>('PUT', '/api/v1/repository', {
      url: 'https://github.com/you/nixcfg.git',
    });
    assert.equal(response.status, 409);
    assert.equal(response.body.error.code, 'repository_locked');
  });

  it('records nothing for webhook deliveries without a valid signature', async () => {
    const sha = await fx.commitFile('hosts.nix', '{ a = 2; }\n', 'fourth');
    await fx.github.push();
    const before = fx.stored();
    const { lastFetchAt } = await fx.repository();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
    const attempts = [
      await fx.webhook('push', body, undefined),
      await fx.webhook('push', body, { secret: 'not-the-secret' }),
      await fx.webhook('push', body, { header: 'sha256=00' }),
      await fx.webhook('push', `${body} `, { header: signatureOf(body) }),
    ];
    for (const attempt of attempts) {
      assert.equal(attempt.status, 401);
      assert.equal((attempt.body as { error: ErrorBody }).error.code, 'invalid_signature');
    }
    // Nothing may happen for a refused delivery: watched for a second, not just slept on.
    await holdsFor(1_000, async () => {
      assert.deepEqual(fx.stored(), before);
      assert.equal((await fx.repository()).lastFetchAt, lastFetchAt);
    });
  });

  it('answers pings, ignores other events and refuses oversized deliveries', async () => {
    const ping = await fx.webhook('ping', '{"zen":"Keep it logically awesome."}', {
      secret: SECRET,
    });
    assert.equal(ping.status, 200);
    assert.deepEqual(ping.body, { accepted: true, event: 'ping' });
    const issues = await fx.webhook('issues', '{}', { secret: SECRET });
    assert.equal(issues.status, 202);
    assert.deepEqual(issues.body, { accepted: false, event: 'issues' });
    const big = JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 1) });
    const tooLarge = await fx.webhook('push', big, { secret: SECRET });
    assert.equal(tooLarge.status, 413);
    assert.equal((tooLarge.body as { error: ErrorBody }).error.code, 'payload_too_large');
  });

  it('records a pushed commit within seconds of a signed push delivery', async () => {
    const head = await fx.github.git(fx.github.work, ['rev-parse', 'HEAD']);
    const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
    const response = await fx.webhook('push', body, { secret: SECRET });
    assert.equal(response.status, 202);
    assert.deepEqual(response.body, { accepted: true, event: 'push' });
    const revision = await eventually(
      async () => (await fx.revisions()).find((r) => r.sha === head),
      'the pushed commit to be recorded',
      10_000,
    );
    assert.equal(revision.message, 'fourth');
    // A duplicate delivery does the work once.
    await fx.webhook('push', body, { secret: SECRET });
    await holdsFor(1_000, async () => {
      assert.equal((await fx.revisions()).filter((r) => r.sha === head).length, 1);
    });
  });

  it('acts on a delivery once: a replay of its id is refused and nothing happens', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'x' });
    const delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
    const before = (await fx.repository()).lastFetchAt;
    const first = await fx.webhook('push', body, { secret: SECRET }, delivery);
    assert.equal(first.status, 202);
    await eventually(
      async () => ((await fx.repository()).lastFetchAt !== before ? true : undefined),
      'the sync of the first delivery',
    );
    const { lastFetchAt } = await fx.repository();
    const replay = await fx.webhook('push', body, { secret: SECRET }, delivery);
    assert.equal(replay.status, 409);
    assert.equal((replay.body as { error: ErrorBody }).error.code, 'webhook_replayed');
    const missing = await fx.webhook('push', body, { secret: SECRET }, '');
    assert.equal(missing.status, 400);
    await holdsFor(1_000, async () => {
      assert.equal((await fx.repository()).lastFetchAt, lastFetchAt, 'no sync for the replay');
    });
    assert.equal(fx.deliveries(delivery), 1, 'the delivery id is stored once');
  });

  it('previews a pull request ref on request, once per commit', async () => {
    const followed = (await fx.revisions('branch'))[0];
    await fx.github.checkout('HEAD', 'pr-7');
    const sha = await fx.commitFile('README.md', 'docs\n', 'pr 7: docs');
    await fx.github.pushRef('refs/pull/7/head');
    await fx.github.checkout('main');

    const created = await fx.api.post<CreatePreviewResponse>('/api/v1/previews', {
      ref: 'refs/pull/7/head',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.created, true);
    const preview = created.body.revision;
    assert.equal(preview.kind, 'preview');
    assert.equal(preview.ref, 'refs/pull/7/head');
    assert.equal(preview.sha, sha);
    assert.equal(preview.message, 'pr 7: docs');
    assert.equal(preview.baseRevisionId, followed?.id);

    const again = await fx.api.post<CreatePreviewResponse>('/api/v1/previews', {
      ref: 'refs/pull/7/head',
    });
    assert.equal(again.body.created, false);
    assert.equal(again.body.revision.id, preview.id);

    const one = await fx.api.get<Revision>(`/api/v1/revisions/${preview.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.sha, sha);
    assert.ok((await fx.revisions('preview')).some((r) => r.id === preview.id));
    assert.ok(!(await fx.revisions('branch')).some((r) => r.id === preview.id));
    assert.equal((await fx.repository()).followedSha, followed?.sha);
  });

  it('refuses refs outside the preview patterns, unknown refs and unknown revisions', async () => {
    const expectError = async (ref: string, status: number, code: string) => {
      const response = await fx.api.post<{ error: ErrorBody }>('/api/v1/previews', { ref });
      assert.equal(response.status, status, `${ref}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code);
    };
    await expectError('refs/heads/feature', 400, 'preview_ref_not_allowed');
    await expectError('refs/heads/main', 400, 'preview_ref_not_allowed');
    await expectError('refs/pull/99/head', 404, 'ref_not_found');
    await expectError('main', 400, 'validation_failed');
    const missing = await fx.api.get<{ error: ErrorBody }>('/api/v1/revisions/rvnope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'revision_not_found');
  });

  it('previews pull requests automatically only from the repository itself, when they change a watched file', async () => {
    const pullRequest = (number: number, sha: string, head: string) =>
      JSON.stringify({
        action: 'synchronize',
        number,
        pull_request: {
          head: { sha, repo: { full_name: head } },
          base: { repo: { full_name: 'you/nixcfg' } },
        },
      });
    await fx.github.checkout('main', 'pr-8');
    const docs = await fx.commitFile('README.md', 'more docs\n', 'pr 8: docs only');
    await fx.github.pushRef('refs/pull/8/head');
    await fx.github.checkout('main', 'pr-9');
    const sha = await fx.commitFile('flake.lock', '{ "nodes": {} }\n', 'pr 9: update inputs');
    await fx.github.pushRef('refs/pull/9/head');
    await fx.github.checkout('main', 'pr-10');
    const fork = await fx.commitFile(
      'flake.lock',
      '{ "nodes": { "x": {} } }\n',
      'pr 10 from a fork',
    );
    await fx.github.pushRef('refs/pull/10/head');
    await fx.github.checkout('main');

    // Polling sees pull request heads but never builds them on its own.
    assert.deepEqual((await sync()).newRevisions, []);

    for (const [number, head, repo] of [
      [8, docs, 'you/nixcfg'],
      [10, fork, 'mallory/nixcfg'],
      [9, sha, 'You/NixCfg'],
    ] as const) {
      const answer = await fx.webhook('pull_request', pullRequest(number, head, repo), {
        secret: SECRET,
      });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
    }
    const preview = await eventually(
      async () => (await fx.revisions('preview')).find((r) => r.ref === 'refs/pull/9/head'),
      'the automatic preview of pull request 9',
    );
    assert.equal(preview.sha, sha);
    await holdsFor(1_000, async () => {
      const refs = (await fx.revisions('preview')).map((r) => r.ref);
      assert.ok(!refs.includes('refs/pull/8/head'), 'no watched file changed');
      assert.ok(!refs.includes('refs/pull/10/head'), 'a fork is previewed only on request');
    });
    assert.equal(preview.author, AUTHOR);
  });

  it('reports a force push once and keeps following the old head', async () => {
    const followed = (await fx.repository()).followedSha;
    const revisionsBefore = fx.stored().revisions;
    await fx.github.forcePushTo(firstSha);
    const rewritten = await fx.commitFile('hosts.nix', '{ b = 1; }\n', 'rewritten history');
    await fx.github.push();

    const result = await sync();
    assert.deepEqual(result.forcePush, { from: followed, to: rewritten, followed: false });
    assert.deepEqual(result.newRevisions, []);
    const repository: Repository = result.repository;
    assert.equal(repository.followedSha, followed);
    assert.equal(repository.forcePushBlocked?.sha, rewritten);
    assert.equal(fx.stored().revisions, revisionsBefore);
    assert.deepEqual(fx.stored().forcePushes.at(-1), {
      repositoryId: 'default',
      branch: 'main',
      from: followed,
      to: rewritten,
      followed: false,
    });

    await sync();
    assert.equal(fx.stored().forcePushes.length, 1, 'one event per rewritten head');
  });

  it('keeps the force-push report across a restart without repeating it', async () => {
    const { lastFetchAt, forcePushBlocked } = await fx.repository();
    await fx.restartController();
    await eventually(async () => {
      const repository = await fx.repository();
      return repository.lastFetchAt !== lastFetchAt ? repository : undefined;
    }, 'the startup sync after the restart');
    assert.deepEqual((await fx.repository()).forcePushBlocked, forcePushBlocked);
    assert.equal(fx.stored().forcePushes.length, 1);
  });
});

function signatureOf(body: string): string {
  return `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
}
