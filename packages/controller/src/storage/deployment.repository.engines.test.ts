import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { DeploymentRepository } from './deployment.repository.js';
import { HostRepository } from './host.repository.js';
import type { DeploymentStatus } from '@flotilla/protocol';

const T0 = '2025-03-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** The repository of one test's own database, with hosts alpha and beta registered. */
async function repositories(db: Db) {
  const hosts = new HostRepository(db);
  for (const name of ['alpha', 'beta']) {
    await hosts.insert({ name, mode: 'managed', os: 'linux', createdAt: T0 });
  }
  const deployments = new DeploymentRepository(db);
  const add = async (id: string, host: string, status: DeploymentStatus, seconds: number) => {
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
      force_reason: null,
    });
  };
  return { deployments, add };
}

for (const engine of testDatabases()) {
  describe(`deployments and their logs on ${engine.name}`, { concurrency: true }, () => {
    it('fills the defaults and keeps flags as the integers 0 and 1', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'approved', 0);
        const row = await deployments.findById('d1');
        assert.equal(row?.kind, 'deploy');
        assert.equal(row.reboot_required, 0);
        assert.equal(row.override_window, 0);
        assert.equal(row.override_wave, 0);
        assert.equal(row.log_seq, 0);
        assert.equal(row.exit_code, null);

        const moved = await deployments.move('d1', 'approved', 'queued', {
          reboot_required: 1,
          override_window: 1,
          exit_code: 0,
        });
        assert.equal(moved?.status, 'queued');
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

    it('moves a deployment only from the status it was read in, and says whether it moved', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'queued', 0);
        assert.equal(
          (await deployments.move('d1', 'queued', 'activating', {}))?.status,
          'activating',
        );
        assert.equal(
          await deployments.move('d1', 'queued', 'failed', {}),
          undefined,
          'a late message cannot move it',
        );
        assert.equal(await deployments.move('missing', 'queued', 'activating', {}), undefined);
        assert.equal((await deployments.findById('d1'))?.status, 'activating');
        await deployments.setPhase('d1', 'activate', ['activating'], '2026-01-01T00:00:01.000Z');
        assert.equal((await deployments.findById('d1'))?.phase, 'activate');
        await deployments.setPhase('d1', 'verify', ['activating'], '2026-01-01T00:00:02.000Z');
        // A phase entered again keeps the time it was first entered.
        await deployments.setPhase('d1', 'activate', ['activating'], '2026-01-01T00:00:03.000Z');
        await deployments.move('d1', 'activating', 'failed', {});
        await deployments.setPhase('d1', 'commit', ['activating'], '2026-01-01T00:00:04.000Z');
        assert.equal(
          (await deployments.findById('d1'))?.phase,
          'activate',
          'an ended one keeps its phase',
        );
        assert.deepEqual(await deployments.phases('d1'), [
          { phase: 'activate', at: '2026-01-01T00:00:01.000Z' },
          { phase: 'verify', at: '2026-01-01T00:00:02.000Z' },
        ]);
      }));

    it('holds one waiting and one in-flight deployment per host, never two (unique indexes)', () =>
      engine.withDatabase(async (db) => {
        const { add } = await repositories(db);
        await add('w1', 'alpha', 'awaiting_approval', 0);
        await assert.rejects(add('w2', 'alpha', 'approved', 1));
        await add('f1', 'alpha', 'queued', 2);
        await assert.rejects(add('f2', 'alpha', 'activating', 3));
        await add('w3', 'beta', 'approved', 4);
        await add('e1', 'alpha', 'succeeded', 5);
        await add('e2', 'alpha', 'succeeded', 6);
      }));

    it('lists and selects in time order, ties broken by id', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d3', 'alpha', 'queued', 0);
        await add('d1', 'alpha', 'awaiting_approval', 0);
        await add('d2', 'beta', 'succeeded', 5);
        await add('d4', 'beta', 'queued', 10);
        await add('d5', 'alpha', 'succeeded', 20);

        assert.deepEqual(
          (await deployments.list({ limit: 10 })).map((d) => d.id),
          ['d5', 'd4', 'd2', 'd3', 'd1'],
        );
        assert.deepEqual(
          (await deployments.list({ limit: 2, host: 'alpha' })).map((d) => d.id),
          ['d5', 'd3'],
        );
        assert.deepEqual(
          (await deployments.list({ limit: 10, statuses: ['queued'] })).map((d) => d.id),
          ['d4', 'd3'],
        );
        assert.deepEqual(
          (await deployments.withStatus(['queued', 'awaiting_approval'])).map((d) => d.id),
          ['d1', 'd3', 'd4'],
        );
        assert.deepEqual(
          (await deployments.forHost('alpha', ['queued', 'awaiting_approval'])).map((d) => d.id),
          ['d1', 'd3'],
        );
        assert.equal((await deployments.latestForHost('alpha', ['succeeded']))?.id, 'd5');
        assert.equal(await deployments.latestForHost('beta', ['awaiting_approval']), undefined);
        assert.deepEqual(
          (await deployments.queuedBefore(at(1))).map((d) => d.id),
          ['d3'],
        );
        assert.deepEqual(await deployments.queuedBefore(at(0)), []);
      }));

    it('finds a revision’s deployments newest first', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'superseded', 0);
        await add('d2', 'alpha', 'awaiting_approval', 30);
        for (const id of ['d1', 'd2']) {
          await db
            .updateTable('deployments')
            .set({ revision_id: 'rev' })
            .where('id', '=', id)
            .execute();
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

    it("numbers log lines from the deployment's own counter and reads them back in pages", () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'activating', 0);
        await add('d2', 'beta', 'queued', 1);
        const first = await deployments.appendLog('d1', [
          { at: at(1), stream: 'stdout', line: 'building the system configuration…' },
          { at: at(2), stream: 'stderr', line: 'warning: ✓ unicode and "quotes"' },
          { at: at(3), stream: 'agent', line: '' },
        ]);
        assert.deepEqual(first, { firstSeq: 1, lastSeq: 3 });
        assert.equal(typeof first?.lastSeq, 'number');
        assert.equal(await deployments.appendLog('d1', []), undefined);
        await deployments.appendLog('d2', [{ at: at(1), stream: 'stdout', line: 'other' }]);
        assert.deepEqual(await deployments.readLog('d1', 1, 10), [
          { seq: 2, at: at(2), stream: 'stderr', line: 'warning: ✓ unicode and "quotes"' },
          { seq: 3, at: at(3), stream: 'agent', line: '' },
        ]);
        assert.deepEqual(
          (await deployments.readLog('d1', 0, 2)).map((l) => l.seq),
          [1, 2],
        );
        // Writers at the same time each get their own numbers.
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            deployments.appendLog('d1', [{ at: at(4), stream: 'stdout', line: `w${i}` }]),
          ),
        );
        const seqs = (await deployments.readLog('d1', 0, 100)).map((l) => l.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: 23 }, (_, i) => i + 1),
        );
        assert.equal(
          await deployments.appendLog('missing', [{ at: at(5), stream: 'stdout', line: 'x' }]),
          undefined,
        );
      }));

    it('stores a log line holding a NUL byte (process output may), the same on both engines', () =>
      engine.withDatabase(async (db) => {
        const { deployments, add } = await repositories(db);
        await add('d1', 'alpha', 'activating', 0);
        await deployments.appendLog('d1', [
          { at: at(1), stream: 'stdout', line: 'before\u0000after' },
        ]);
        const [line] = await deployments.readLog('d1', 0, 10);
        assert.equal(line?.line, 'before\uFFFDafter');
      }));
  });
}
