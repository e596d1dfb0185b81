import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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
      origin: 'config',
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

  describe('with a token over plain HTTP', () => {
    let server: Server;
    let seen: IncomingHttpHeaders[];
    let url: string;
    const token = 'ghp_unit_Secret_0123456789';

    before(async () => {
      seen = [];
      server = createServer((request, response) => {
        seen.push(request.headers);
        response.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
        response.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/owner/flake.git`;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('refuses before git runs: a token is only ever sent over https', async () => {
      const withToken = new GitClient({
        gitDir: join(root, 'token-state', 'mirror.git'),
        url,
        origin: 'config',
        auth: { token },
        baseEnv: gitEnv,
        helperDir: join(root, 'token-state'),
      });
      await assert.rejects(withToken.fetch(['+refs/heads/main:refs/heads/main']), (error) => {
        assert.ok(error instanceof FlotillaError);
        assert.equal(error.code, 'git_failed');
        assert.match(error.message, /only ever sent over https/);
        assert.ok(!error.message.includes(token), error.message);
        return true;
      });
      assert.deepEqual(seen, [], 'nothing reached the server');
    });
  });

  describe('against what an attacker would put in a URL', () => {
    const marker = () => join(root, 'pwned');
    const clientFor = (url: string, linkOrigin: 'api' | 'config', env = gitEnv) =>
      new GitClient({
        gitDir: join(root, `attack-${Math.random().toString(36).slice(2)}`, 'mirror.git'),
        url,
        origin: linkOrigin,
        auth: {},
        baseEnv: env,
        helperDir: join(root, 'attack-helper'),
      });

    it('never reads a URL as an option: --upload-pack runs nothing', async () => {
      for (const linkOrigin of ['api', 'config'] as const) {
        const attack = clientFor(`--upload-pack=touch ${marker()}`, linkOrigin);
        await assert.rejects(attack.fetch([`+refs/heads/main:refs/heads/main`]), (error) => {
          assert.ok(error instanceof FlotillaError);
          assert.equal(error.code, 'git_failed');
          return true;
        });
        assert.equal(existsSync(marker()), false, `${linkOrigin}: no command ran`);
      }
    });

    it('refuses remote helpers (ext::) and local paths from the API', async () => {
      for (const url of [`ext::sh -c touch% ${marker()}`, origin, `file://${origin}`]) {
        await assert.rejects(clientFor(url, 'api').fetch(['+refs/heads/main:refs/heads/main']));
      }
      await assert.rejects(
        clientFor(`ext::sh -c touch% ${marker()}`, 'config').fetch(['+refs/heads/x:refs/heads/x']),
      );
      assert.equal(existsSync(marker()), false);
    });

    it("speaks only https and ssh for an API link, whatever the user's git config rewrites", async () => {
      // A git config that turns the https URL into the local repository: git would follow
      // it over the file transport, which an API link must never use.
      const home = join(root, 'rewriting-home');
      mkdirSync(home, { recursive: true });
      writeFileSync(
        join(home, '.gitconfig'),
        `[url "${origin}"]\n\tinsteadOf = https://example.invalid/flake.git\n[protocol "file"]\n\tallow = always\n`,
      );
      const env = { ...gitEnv, HOME: home };
      const rewritten = clientFor('https://example.invalid/flake.git', 'api', env);
      await assert.rejects(rewritten.fetch(['+refs/heads/main:refs/heads/main']), (error) => {
        assert.ok(error instanceof FlotillaError);
        assert.match(error.message, /transport 'file' not allowed/);
        return true;
      });
      // A config link may use the file transport only when it names a local path itself.
      const fromConfig = clientFor('https://example.invalid/flake.git', 'config', env);
      await assert.rejects(fromConfig.fetch(['+refs/heads/main:refs/heads/main']));
      const local = clientFor(origin, 'config', env);
      await local.fetch(['+refs/heads/main:refs/heads/main']);
      assert.equal(await local.revParse('refs/heads/main'), shas.two);
    });

    it('gives the token only to network commands of an https remote', async () => {
      const token = 'ghp_env_Secret_0123456789';
      const gitDir = join(root, 'env-state', 'mirror.git');
      const local = new GitClient({
        gitDir,
        url: origin,
        origin: 'config',
        auth: {},
        baseEnv: gitEnv,
        helperDir: join(root, 'env-state'),
      });
      await local.fetch(['+refs/heads/main:refs/heads/main']);
      // Git runs the reference-transaction hook with its own environment on update-ref.
      const dump = join(root, 'hook-env');
      mkdirSync(join(gitDir, 'hooks'), { recursive: true });
      writeFileSync(
        join(gitDir, 'hooks', 'reference-transaction'),
        `#!/bin/sh\nenv >> '${dump}'\n`,
        {
          mode: 0o755,
        },
      );
      const withToken = new GitClient({
        gitDir,
        url: 'https://example.invalid/flake.git',
        origin: 'api',
        auth: { token },
        baseEnv: gitEnv,
        helperDir: join(root, 'env-state'),
      });
      await withToken.updateRef('refs/flotilla/followed', shas.two ?? '');
      const seen = readFileSync(dump, 'utf8');
      assert.match(seen, /GIT_TERMINAL_PROMPT=0/, 'the hook ran with git environment');
      assert.ok(!seen.includes(token), 'no token in a local command');
      assert.ok(!seen.includes('FLOTILLA_GIT_PASSWORD'));
    });
  });
});
