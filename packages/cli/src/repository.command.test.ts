import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Repository, Revision } from '@flotilla/protocol';
import { startTestController, type TestController, runCli } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const SHA = '0123456789abcdef0123456789abcdef01234567';

const repository: Repository = {
  id: 'default',
  url: 'https://github.com/owner/nixcfg.git',
  branch: 'main',
  flakeDir: '',
  source: 'api',
  locked: false,
  authKind: 'token',
  pollIntervalSeconds: 60,
  allowForcePush: false,
  followedSha: SHA,
  lastFetchAt: '2025-01-01T11:59:00.000Z',
  lastFetchError: null,
  forcePushBlocked: { sha: 'f'.repeat(40), at: '2025-01-01T11:58:00.000Z' },
};

const revision: Revision = {
  id: 'rv1',
  sha: SHA,
  ref: 'refs/pull/7/head',
  kind: 'preview',
  message: 'Update inputs\n\nBumps nixpkgs.',
  author: 'Ada <ada@example.org>',
  committedAt: '2025-01-01T11:00:00.000Z',
  discoveredAt: '2025-01-01T11:59:30.000Z',
  status: 'pending',
  errorText: null,
  evaluatedAt: null,
  baseRevisionId: 'rv0',
  evaluation: null,
};

/** A branch head where one host's file did not evaluate. */
const evaluated: Revision = {
  ...revision,
  id: 'rv2',
  ref: 'refs/heads/main',
  kind: 'branch',
  status: 'evaluated',
  evaluatedAt: '2025-01-01T11:59:40.000Z',
  evaluation: {
    nixos: { gpc1: '/nix/store/a-nixos-system-gpc1.drv' },
    hostErrors: { gpc0: "error: syntax error, unexpected '}', expecting ';'" },
    hostErrorDetails: {
      gpc0: {
        message: "syntax error, unexpected '}', expecting ';'",
        location: { file: 'hosts/gpc0.nix', line: 4, column: 1 },
      },
    },
    evaluatedPerHost: true,
    darwin: [],
    home: [],
  },
};

describe('repository, revisions and preview commands', () => {
  let controller: TestController;
  let dir: string;

  const cli = (...argv: string[]) => runCli(controller, argv, now);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-repository-'));
    controller = await startTestController({
      'GET /api/v1/repository': () => ({ json: repository }),
      'PUT /api/v1/repository': () => ({ json: repository }),
      'GET /api/v1/revisions': () => ({ json: { revisions: [revision] } }),
      'GET /api/v1/revisions/rv1': () => ({ json: revision }),
      'GET /api/v1/revisions/rv2': () => ({ json: evaluated }),
      'POST /api/v1/previews': () => ({ json: { revision, created: true } }),
    });
  });

  after(async () => {
    await controller.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the repository with a blocked force push', async () => {
    const { code, stdout } = await cli('repository');
    assert.equal(code, 0);
    assert.match(stdout, /URL:\s+https:\/\/github.com\/owner\/nixcfg.git/);
    assert.match(stdout, /Following:\s+0123456789ab/);
    assert.match(
      stdout,
      /Blocked:\s+branch rewritten to ffffffffffff at 2025-01-01 11:58:00Z \(2 m ago\); not followed/,
    );
  });

  it('links with the token read from a file, sent once and never printed', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'ghp_cli_secret\n');
    const { code, stdout } = await cli(
      'repository',
      'link',
      'https://github.com/owner/nixcfg.git',
      '--branch',
      'main',
      '--token-file',
      tokenFile,
      '--poll-interval',
      '30',
      '--allow-force-push',
    );
    assert.equal(code, 0);
    assert.ok(!stdout.includes('ghp_cli_secret'));
    const request = controller.requests.find((r) => r.method === 'PUT');
    assert.deepEqual(request?.body, {
      url: 'https://github.com/owner/nixcfg.git',
      branch: 'main',
      flakeDir: '',
      token: 'ghp_cli_secret',
      pollIntervalSeconds: 30,
      allowForcePush: true,
    });
  });

  it('refuses an unreadable token file before sending anything', async () => {
    const before = controller.requests.length;
    const { code, stderr } = await cli('repository', 'link', 'x', '--token-file', join(dir, 'no'));
    assert.equal(code, 2);
    assert.match(stderr, /--token-file: cannot read/);
    assert.equal(controller.requests.length, before);
  });

  it('lists revisions and shows one with its whole message', async () => {
    const list = await cli('revisions', '--kind', 'preview', '--limit', '5');
    assert.equal(list.code, 0);
    assert.match(list.stdout, /rv1\s+preview\s+0123456789ab\s+refs\/pull\/7\/head\s+pending/);
    const query = controller.requests.find((r) => r.path === '/api/v1/revisions')?.query;
    assert.equal(query?.get('kind'), 'preview');
    const one = await cli('revision', 'rv1');
    assert.match(one.stdout, /Bumps nixpkgs\./);
  });

  it('shows where a host failed to evaluate, in text and in JSON', async () => {
    const text = await cli('revision', 'rv2');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /gpc0  hosts\/gpc0\.nix:4:1  syntax error, unexpected '}'/);
    const json = await cli('--json', 'revision', 'rv2');
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout), evaluated);
  });

  it('records a preview and prints JSON on request', async () => {
    const { code, stdout } = await cli('--json', 'preview', 'refs/pull/7/head');
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), { revision, created: true });
    const request = controller.requests.find((r) => r.path === '/api/v1/previews');
    assert.deepEqual(request?.body, { ref: 'refs/pull/7/head' });
  });
});
