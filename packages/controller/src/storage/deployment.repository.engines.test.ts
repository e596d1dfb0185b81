import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { DeploymentRepository } from './deployment.repository.js';
import { HostRepository } from './host.repository.js';

const T0 = '2025-03-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** The repository of one test's own database, with hosts alpha and beta registered. */
async function repositories(db: Db) {
  const hosts = new HostRepository(db);
  for (const name of ['alpha', 'beta']) {
    await hosts.insert({ name, mode: 'managed', os: 'linux', tokenHash: name, createdAt: T0 });
  }
  const deployments = new DeploymentRepository(db);
  const add = async (id: string, host: string, status: string, seconds: number) => {
    await deployments.insert({
      id,
      host_name: host,
      store_path: `/nix/store/${id}-system`,
      action: 'switch',
      status,
      phase: null,
      actor: 'admin',
      created_at: at(seconds),
      started_at: null,
      finished_at: null,
      exit_code: null,
      error_code: null,
      error_message: null,
      result_system: null,
      release_id: null,
      revision_id: null,
      approved_by: null,
      approved_at: null,
      approval_comment: null,
      hold_reason: null,
    });
  };
  return { deployments, add };
}

for (const engine of testDatabases()) {
  describe(`deployments and their logs on ${engine.name}`, { concurrency: true }, () => {
    it('fills the defaults and keeps flags as the integers 0 and 1', () =>
      engine.withDatabase(async (db) => {
        const { deployments } = await repositories(db);
        await deployments.insertForRelease({
          id: 'd1',
          release: {
            id: 'r1',
            host_name: 'alpha',
            store_path: '/nix/store/a',
            revision_id: 'rev1',
          },
          status: 'approved',
          actor: 'policy',
          at: T0,
          approvedBy: 'policy',
        });
        const row = await deployments.findById('d1');
        assert.equal(row?.kind, 'deploy');
        assert.equal(row.reboot_required, 0);
        assert.equal(row.override_window, 0);
        assert.equal(row.approved_at, T0);
        assert.equal(row.release_id, 'r1');
        assert.equal(row.exit_code, null);

        assert.equal(
          await deployments.transition('d1', ['approved'], {
            status: 'succeeded',
            reboot_required: 1,
            override_window: 1,
            exit_code: 0,
          }),
          true,
        );
        const done = await deployments.findById('d1');
        assert.equal(done?.reboot_required, 1);
        assert.equal(done.override_window, 1);
        assert.equal(done.exit_code, 0);
        assert.equal(await deployments.findById('missing'), undefined);
      }));

    it('refuses a deployment for an unknown host (the foreign key holds on both engines)', () =>
      engine.withDatabase(async (db) => {
        const { add } = await repositories(db);
        await assert.rejects(add('d1', 'nobody', 'queued', 0));
      }));

    it('moves a deployment only from the statuses given, and says whether it moved', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'queued', 0);
        assert.equal(await deployments.transition('d1', ['queued'], { status: 'sent' }), true);
        assert.equal(
          await deployments.transition('d1', ['queued'], { status: 'failed' }),
          false,
          'a late message cannot move it',
        );
        assert.equal(
          await deployments.transition('missing', ['queued'], { status: 'sent' }),
          false,
        );
        assert.equal((await deployments.findById('d1'))?.status, 'sent');
        await deployments.setPhase('d1', 'activate');
        assert.equal((await deployments.findById('d1'))?.phase, 'activate');
      }));

    it('lists and selects in time order, ties broken by id', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d3', 'alpha', 'queued', 0);
        await add('d1', 'alpha', 'queued', 0);
        await add('d2', 'beta', 'succeeded', 5);
        await add('d4', 'alpha', 'running', 10);
        await add('d5', 'alpha', 'succeeded', 20);

        assert.deepEqual(
          (await deployments.list(10)).map((d) => d.id),
          ['d5', 'd4', 'd2', 'd3', 'd1'],
        );
        assert.deepEqual(
          (await deployments.list(2, 'alpha')).map((d) => d.id),
          ['d5', 'd4'],
        );
        assert.deepEqual(
          (await deployments.withStatus(['queued', 'running'])).map((d) => d.id),
          ['d1', 'd3', 'd4'],
        );
        assert.deepEqual(
          (await deployments.findActiveForHost('alpha', ['queued', 'running']))
            .map((d) => d.id)
            .sort(),
          ['d1', 'd3', 'd4'],
        );
        assert.equal((await deployments.latestForHost('alpha', ['succeeded']))?.id, 'd5');
        assert.equal(await deployments.latestForHost('beta', ['queued']), undefined);
        assert.deepEqual((await deployments.queuedBefore(at(1))).map((d) => d.id).sort(), [
          'd1',
          'd3',
        ]);
        assert.deepEqual(await deployments.queuedBefore(at(0)), []);
      }));

    it('finds a revision’s deployments newest first', () =>
      engine.withDatabase(async (db) => {
        const { deployments } = await repositories(db);
        for (const [id, seconds] of [
          ['d1', 0],
          ['d2', 30],
        ] as const) {
          await deployments.insertForRelease({
            id,
            release: {
              id: `r-${id}`,
              host_name: 'alpha',
              store_path: '/nix/store/a',
              revision_id: 'rev',
            },
            status: 'awaiting_approval',
            actor: 'pipeline',
            at: at(seconds),
          });
        }
        const rows = await deployments.forRevision('rev');
        assert.deepEqual(
          rows.map((d) => d.id),
          ['d2', 'd1'],
        );
        assert.equal(rows[0]?.approved_by, null);
        assert.equal(rows[0]?.approved_at, null);
        assert.deepEqual(await deployments.forRevision('other'), []);
      }));

    it('appends log lines in sequence and reads them back in pages', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'running', 0);
        await add('d2', 'alpha', 'queued', 1);
        const last = await deployments.lastLogSeq('d1');
        assert.equal(last, 0);
        await deployments.appendLog('d1', last + 1, [
          { at: at(1), stream: 'stdout', line: 'building the system configuration…' },
          { at: at(2), stream: 'stderr', line: 'warning: ✓ unicode and "quotes"' },
          { at: at(3), stream: 'agent', line: '' },
        ]);
        await deployments.appendLog('d1', 4, []);
        await deployments.appendLog('d2', 1, [{ at: at(1), stream: 'stdout', line: 'other' }]);
        const seq = await deployments.lastLogSeq('d1');
        assert.equal(seq, 3);
        assert.equal(typeof seq, 'number');
        assert.deepEqual(await deployments.readLog('d1', 1, 10), [
          { seq: 2, at: at(2), stream: 'stderr', line: 'warning: ✓ unicode and "quotes"' },
          { seq: 3, at: at(3), stream: 'agent', line: '' },
        ]);
        assert.deepEqual(
          (await deployments.readLog('d1', 0, 2)).map((l) => l.seq),
          [1, 2],
        );
        await assert.rejects(
          deployments.appendLog('d1', 3, [{ at: at(4), stream: 'stdout', line: 'again' }]),
          'a sequence number is written once',
        );
      }));

    it('stores a log line holding a NUL byte (process output may), the same on both engines', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'running', 0);
        await deployments.appendLog('d1', 1, [
          { at: at(1), stream: 'stdout', line: 'before\u0000after' },
        ]);
        const [line] = await deployments.readLog('d1', 0, 10);
        assert.equal(line?.line, 'before\uFFFDafter');
      }));
  });
}
