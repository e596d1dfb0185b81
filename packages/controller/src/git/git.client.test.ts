import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlotillaError } from '@flotilla/protocol';
import { processRunner } from '@flotilla/runtime';
import { GitClient } from './git.client.js';

/** What the controller gives git: the search path and a home, nothing else. */
const gitEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };

// Real git against a bare repository on disk (what GitHub is to a real controller).
async function git(cwd: string, ...args: string[]): Promise<string> {
  const identity = ['-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@example.org'];
  const result = await processRunner.run('git', ['-C', cwd, ...identity, ...args], {
    env: gitEnv,
    captureStdout: true,
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

describe('GitClient', () => {
  let root: string;
  let origin: string;
  let work: string;
  let client: GitClient;
  const shas: Record<string, string> = {};

  async function commit(name: string, file: string, content: string): Promise<string> {
    writeFileSync(join(work, file), content);
    await git(work, 'add', '--all');
    await git(work, 'commit', '--quiet', '-m', `${name}\n\nBody of ${name}.`);
    shas[name] = await git(work, 'rev-parse', 'HEAD');
    return shas[name];
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'flotilla-git-client-'));
    origin = join(root, 'origin.git');
    work = join(root, 'work');
    await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
    await git(root, 'init', '--quiet', '--initial-branch=main', work);
    await commit('one', 'flake.nix', '{}');
    await commit('two', 'flake.lock', '{}');
    await git(work, 'push', '--quiet', origin, 'HEAD:refs/heads/main');
    await git(work, 'checkout', '--quiet', '-b', 'feature', shas.one ?? '');
    await commit('three', 'README.md', 'hello');
    await git(work, 'push', '--quiet', origin, 'HEAD:refs/pull/7/head');
    client = new GitClient({
      gitDir: join(root, 'state', 'mirror.git'),
      url: origin,
      auth: {},
      baseEnv: gitEnv,
      helperDir: join(root, 'state'),
    });
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('mirrors the branch and globbed refs, and lists them', async () => {
    await client.fetch(['+refs/heads/main:refs/heads/main', '+refs/pull/*/head:refs/pull/*/head']);
    assert.equal(await client.revParse('refs/heads/main'), shas.two);
    assert.equal(await client.revParse('refs/heads/nope'), undefined);
    assert.deepEqual(await client.listRefs(['refs/pull/*/head']), [
      { ref: 'refs/pull/7/head', sha: shas.three },
    ]);
    assert.equal(statSync(join(root, 'state', 'git-askpass.sh')).mode & 0o777, 0o700);
  });

  it('answers ancestry, merge bases and changed files', async () => {
    const [one, two, three] = [shas.one ?? '', shas.two ?? '', shas.three ?? ''];
    assert.equal(await client.isAncestor(one, two), true);
    assert.equal(await client.isAncestor(two, one), false);
    assert.equal(await client.isAncestor(two, three), false);
    assert.equal(await client.mergeBase(two, three), one);
    assert.deepEqual(await client.changedFiles(one, two), ['flake.lock']);
    assert.deepEqual(await client.changedFiles(undefined, one), ['flake.nix']);
    assert.equal(await client.hasCommit(two), true);
    assert.equal(await client.hasCommit('0'.repeat(40)), false);
  });

  it('reads a commit: full message, author, UTC commit time', async () => {
    const info = await client.commitInfo(shas.two ?? '');
    assert.equal(info.message, 'two\n\nBody of two.');
    assert.equal(info.author, 'Ada Lovelace <ada@example.org>');
    assert.match(info.committedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it('answers ref_not_found for a ref the remote does not have', async () => {
    await assert.rejects(client.fetchRef('refs/pull/99/head'), (error: unknown) => {
      assert.ok(error instanceof FlotillaError);
      assert.equal(error.code, 'ref_not_found');
      return true;
    });
  });

  describe('with a token over HTTP', () => {
    let server: Server;
    let seen: IncomingHttpHeaders[];
    let url: string;
    const token = 'ghp_unit_Secret_0123456789';

    before(async () => {
      seen = [];
      // Asks for credentials like GitHub does, then refuses them: git must have sent them.
      server = createServer((request, response) => {
        seen.push(request.headers);
        response.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
        response.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/owner/flake.git`;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('sends the token through the credential helper and keeps it out of errors', async () => {
      const withToken = new GitClient({
        gitDir: join(root, 'token-state', 'mirror.git'),
        url,
        auth: { token },
        baseEnv: gitEnv,
        helperDir: join(root, 'token-state'),
      });
      await assert.rejects(withToken.fetch(['+refs/heads/main:refs/heads/main']), (error) => {
        assert.ok(error instanceof FlotillaError);
        assert.equal(error.code, 'git_failed');
        assert.ok(!error.message.includes(token), error.message);
        return true;
      });
      const basic = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
      assert.ok(
        seen.some((headers) => headers.authorization === basic),
        'git sent the token as x-access-token',
      );
    });
  });
});
