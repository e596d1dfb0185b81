import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Revision } from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, run, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

/** The `flotilla` command line, run as its own process. */
const CLI = fileURLToPath(new URL('../../../packages/cli/bin/flotilla.js', import.meta.url));

describe(
  'flotilla wait: one commit followed to its outcome, by exit code',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;
    let repo: GitFlakeRepo;
    let viewerToken: string;

    /** Runs `flotilla` as a viewer-scoped tool would, with no contexts file. */
    const cli = async (...args: string[]) =>
      run(process.execPath, [CLI, ...args], {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        FLOTILLA_URL: fleet.controller.url,
        FLOTILLA_TOKEN: viewerToken,
        FLOTILLA_CONTEXT_FILE: join(fleet.dir, 'no-contexts.json'),
      });
    const sync = async () => {
      const response = await fleet.api.post('/api/v1/repository/sync', {});
      assert.equal(response.status, 200, JSON.stringify(response.body));
    };

    before(async () => {
      fleet = await FleetFixture.start('wait', {
        config: async (dir) => {
          repo = await GitFlakeRepo.create(join(dir, 'github'));
          await writeSandboxFlake(repo.work, [
            { name: 'alpha', version: '1' },
            { name: 'beta', version: '1' },
          ]);
          await repo.commit('initial fleet');
          await repo.push();
          return { repository: { url: repo.bare, branch: 'main', pollIntervalSeconds: 3600 } };
        },
      });
      await fleet.register('alpha');
      const token = await fleet.api.post<{ token: string }>('/api/v1/tokens', {
        name: 'ci',
        scope: 'read',
      });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      viewerToken = token.body.token;
      await JsonClient.until(async () => {
        const list = (await fleet.api.get<{ revisions: Revision[] }>('/api/v1/revisions')).body;
        return list.revisions[0];
      }, 'the first revision');
    });

    after(async () => {
      await fleet?.stop();
    });

    it('a commit with an evaluation error exits 3 with the file and line', async () => {
      await writeFile(
        join(repo.work, 'hosts', 'beta.nix'),
        '{\n  version = "2";\n  exitCode = 0\n}\n',
      );
      const sha = await repo.commit('beta: broken');
      await repo.push();
      await sync();
      const result = await cli('wait', sha.slice(0, 10), '--timeout', '120s');
      assert.equal(result.code, 3, result.stdout + result.stderr);
      assert.match(result.stdout, /: evaluation failed\n/);
      assert.match(result.stdout, /\nbeta: hosts\/beta\.nix:4:1: syntax error, unexpected '}'/);
    });

    it('a good commit, recorded only after the wait began, exits 0 once built (--json per host)', async () => {
      await writeHost(repo.work, { name: 'beta', version: '2' });
      await writeHost(repo.work, { name: 'alpha', version: '2' });
      const sha = await repo.commit('alpha, beta: version 2');
      await repo.push();
      const waiting = cli('--json', 'wait', sha, '--for', 'built', '--timeout', '180s');
      await sync();
      const result = await waiting;
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const outcome = JSON.parse(result.stdout) as {
        state: string;
        exitCode: number;
        revision: { sha: string };
        hosts: { host: string; state: string; stage: string; releaseId: string | null }[];
      };
      assert.equal(outcome.state, 'reached');
      assert.equal(outcome.exitCode, 0);
      assert.equal(outcome.revision.sha, sha);
      assert.deepEqual(
        outcome.hosts.map((h) => [h.host, h.state, h.stage]),
        [
          ['alpha', 'reached', 'built'],
          ['beta', 'reached', 'built'],
        ],
      );
      assert.ok(outcome.hosts.every((h) => h.releaseId !== null));
    });

    it('times out with 124 while the deployment waits for a human', async () => {
      const result = await cli('wait', 'HEAD', '--for', 'approved', '--timeout', '2s');
      assert.equal(result.code, 124, result.stdout + result.stderr);
      assert.match(result.stdout, /: not approved after 2 s \(0 of 1 hosts\)/);
      assert.match(result.stdout, /\nalpha +pending +awaiting_approval /);
    });

    it('the status route answers stable codes for what it cannot resolve', async () => {
      const unknown = await fleet.api.get<{ error: { code: string } }>(
        '/api/v1/revisions/0123456789abcdef/status',
      );
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'revision_not_found');
      const bad = await fleet.api.get<{ error: { code: string } }>(
        '/api/v1/revisions/a%20b/status',
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_failed');
      const usage = await cli('wait', 'HEAD', '--for', 'shipped');
      assert.equal(usage.code, 2, usage.stderr);
    });
  },
);
