import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ErrorBody, Repository, SyncResult } from '@flotilla/protocol';
import { GitHttpsServer, writeTestGitConfig } from '@flotilla/sandbox';
import { eventually, RepositoryFixture } from './repository-fixture.js';

const TOKEN = 'ghp_IntegrationSecret_5c1d0f2e9a';

describe('a repository linked through the API', { timeout: 300_000 }, () => {
  let fx: RepositoryFixture;
  let home: string;
  let github: GitHttpsServer;
  let remote: string;

  before(async () => {
    // The API links remotes over https (or ssh) only: "GitHub" here is git's smart HTTP
    // over TLS on loopback, and the controller's git trusts the test authority through the
    // git config in its HOME.
    home = await mkdtemp(join(tmpdir(), 'flotilla-repository-link-home-'));
    await writeTestGitConfig(home);
    fx = await RepositoryFixture.start('repository-link', async () => ({}), { HOME: home });
    github = await GitHttpsServer.start({ root: dirname(fx.github.bare) });
    remote = github.url('origin.git');
  });

  after(async () => {
    await github?.close();
    await fx?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('refuses URLs git would read as options, remote helpers and local paths; stores nothing', async () => {
    const marker = join(fx.dir, 'pwned');
    for (const [url, token] of [
      [`--upload-pack=touch ${marker}`, undefined],
      [`ext::sh -c touch% ${marker}`, undefined],
      [fx.github.bare, undefined],
      [`file://${fx.github.bare}`, undefined],
      ['http://127.0.0.1:1/owner/flake.git', TOKEN],
      ['http://127.0.0.1:1/owner/flake.git', undefined],
    ] as const) {
      const response = await fx.api.request<{ error: ErrorBody }>('PUT', '/api/v1/repository', {
        url,
        ...(token === undefined ? {} : { token }),
      });
      assert.equal(response.status, 400, `${url}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, 'validation_failed');
    }
    const get = await fx.api.get<{ error: ErrorBody }>('/api/v1/repository');
    assert.equal(get.body.error.code, 'repository_not_linked', 'no link was stored');
    assert.equal(existsSync(marker), false, 'no command ran');
    assert.equal(
      existsSync(join(fx.controller.stateDir, 'repositories', 'default', 'token')),
      false,
      'no token was stored',
    );
  });

  it('answers repository_not_linked and webhook_not_configured before anything is set up', async () => {
    const get = await fx.api.get<{ error: ErrorBody }>('/api/v1/repository');
    assert.equal(get.status, 409);
    assert.equal(get.body.error.code, 'repository_not_linked');
    const sync = await fx.api.post<{ error: ErrorBody }>('/api/v1/repository/sync', {});
    assert.equal(sync.body.error.code, 'repository_not_linked');
    const hook = await fx.webhook('push', '{}', { secret: 'anything' });
    assert.equal(hook.status, 404);
    assert.equal((hook.body as { error: ErrorBody }).error.code, 'webhook_not_configured');
  });

  it('links, follows, and with allowForcePush follows a rewritten branch too', async () => {
    const first = await fx.github.git(fx.github.work, ['rev-parse', 'HEAD']);
    const linked = await fx.api.request<Repository>('PUT', '/api/v1/repository', {
      url: remote,
      allowForcePush: true,
      pollIntervalSeconds: 3600,
    });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.equal(linked.body.source, 'api');
    assert.equal(linked.body.locked, false);
    assert.equal(linked.body.allowForcePush, true);
    await eventually(
      async () => ((await fx.repository()).followedSha === first ? true : undefined),
      'the sync after linking to follow the branch',
    );

    await fx.commitFile('a.nix', '{ }\n', 'second');
    await fx.github.push();
    const second = await fx.api.post<SyncResult>('/api/v1/repository/sync', {});
    assert.equal(second.body.newRevisions.length, 1);
    const followed = second.body.headSha;

    await fx.github.forcePushTo(first);
    const rewritten = await fx.commitFile('b.nix', '{ }\n', 'rewritten');
    await fx.github.push();
    const result = await fx.api.post<SyncResult>('/api/v1/repository/sync', {});
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.deepEqual(result.body.forcePush, { from: followed, to: rewritten, followed: true });
    assert.equal(result.body.newRevisions.length, 1);
    assert.equal(result.body.newRevisions[0]?.message, 'rewritten');
    assert.equal(result.body.repository.followedSha, rewritten);
    assert.equal(result.body.repository.forcePushBlocked, null);
    assert.equal(fx.stored().forcePushes.length, 1);
  });

  it('notices a push by polling, after a re-link changed the interval', async () => {
    const { lastFetchAt } = await fx.repository();
    const relinked = await fx.api.request<Repository>('PUT', '/api/v1/repository', {
      url: remote,
      pollIntervalSeconds: 5,
    });
    assert.equal(relinked.status, 200, JSON.stringify(relinked.body));
    assert.equal(relinked.body.followedSha, (await fx.repository()).followedSha, 'same URL: kept');
    // The sync a re-link starts must be over, so that only a poll can find the next push.
    await eventually(
      async () => ((await fx.repository()).lastFetchAt !== lastFetchAt ? true : undefined),
      'the sync after re-linking',
    );
    const sha = await fx.commitFile('c.nix', '{ }\n', 'polled');
    await fx.github.push();
    const revision = await eventually(
      async () => (await fx.revisions()).find((r) => r.sha === sha),
      'a poll to record the pushed commit',
      15_000,
    );
    assert.equal(revision.message, 'polled');
    await fx.controller.process.waitForLine(
      (line) => line.includes('"reason":"poll"') && line.includes(sha),
      1_000,
    );
  });

  describe('with an access token', () => {
    let withToken: GitHttpsServer;

    before(async () => {
      // Refuses every request without the token, as GitHub does for a private repository.
      withToken = await GitHttpsServer.start({ root: dirname(fx.github.bare), token: TOKEN });
    });

    after(() => withToken?.close());

    const link = async (url: string): Promise<Repository> => {
      const linked = await fx.api.request<Repository>('PUT', '/api/v1/repository', {
        url,
        token: TOKEN,
        pollIntervalSeconds: 3600,
      });
      assert.equal(linked.status, 200, JSON.stringify(linked.body));
      assert.equal(linked.body.authKind, 'token');
      assert.ok(!JSON.stringify(linked.body).includes(TOKEN));
      return linked.body;
    };

    it('keeps the token out of errors, answers and the database when the remote is down', async () => {
      await link('https://127.0.0.1:1/owner/flake.git');
      const sync = await fx.api.post<{ error: ErrorBody }>('/api/v1/repository/sync', {});
      assert.equal(sync.status, 502, JSON.stringify(sync.body));
      assert.equal(sync.body.error.code, 'git_failed');
      assert.ok(!sync.body.error.message.includes(TOKEN), sync.body.error.message);
      const repository = await fx.repository();
      assert.ok(repository.lastFetchError !== null);
      assert.ok(!JSON.stringify(repository).includes(TOKEN));
      assert.equal(repository.followedSha, null, 'a new URL starts over');
      for (const file of ['flotilla.db', 'flotilla.db-wal']) {
        const bytes = await readFile(join(fx.controller.stateDir, file)).catch(() =>
          Buffer.alloc(0),
        );
        assert.ok(!bytes.includes(TOKEN), `the token is not in ${file}`);
      }
    });

    it('sends the token over https through the credential helper, and follows the branch', async () => {
      await link(withToken.url('origin.git'));
      const sync = await fx.api.post<SyncResult>('/api/v1/repository/sync', {});
      assert.equal(sync.status, 200, JSON.stringify(sync.body));
      const head = await fx.github.git(fx.github.work, ['rev-parse', 'HEAD']);
      assert.equal(sync.body.headSha, head);
      const basic = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
      assert.ok(withToken.authorizations.includes(basic), 'git authenticated with the token');
      const tokenFile = join(fx.controller.stateDir, 'repositories', 'default', 'token');
      assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
      assert.equal((await readFile(tokenFile, 'utf8')).trim(), TOKEN);
    });

    it('never writes the token to the log', () => {
      const log = fx.controller.process.lines.join('\n');
      assert.ok(log.includes('git fetch failed'), 'the failures were logged');
      assert.ok(!log.includes(TOKEN));
    });
  });
});

describe('a repository linked in the config file with a token file', { timeout: 300_000 }, () => {
  let fx: RepositoryFixture;

  before(async () => {
    fx = await RepositoryFixture.start('repository-token', async (_github, dir) => {
      const tokenFile = join(dir, 'token');
      await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
      return { repository: { url: 'https://127.0.0.1:1/owner/flake.git', tokenFile } };
    });
  });

  after(async () => {
    await fx?.stop();
  });

  it('records the failed startup fetch without the token anywhere', async () => {
    const repository = await eventually(async () => {
      const current = await fx.repository();
      return current.lastFetchError !== null ? current : undefined;
    }, 'the startup fetch to fail');
    assert.equal(repository.authKind, 'token');
    assert.match(repository.lastFetchError ?? '', /git fetch failed/);
    assert.ok(!JSON.stringify(repository).includes(TOKEN));
    assert.ok(!fx.controller.process.lines.join('\n').includes(TOKEN));
  });
});
