import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Evaluation } from '@flotilla/protocol';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { BuildRepository } from './build.repository.js';
import { CacheRepository, type CachedPath } from './cache.repository.js';
import { EvaluationRepository, parseEvaluation } from './evaluation.repository.js';
import { ReleaseRepository } from './release.repository.js';
import { RepositoryLinkRepository } from './repository-link.repository.js';
import { RevisionRepository, type NewRevision } from './revision.repository.js';

const T0 = '2025-04-01T08:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
/** Over 2^32 bytes: a closure size PostgreSQL returns as bigint. */
const BIG_CLOSURE = 6_442_450_944;
/** A 32-character store hash. */
const storeHash = (i: number) => `hash${String(i).padStart(28, '0')}`;

function revision(
  id: string,
  sha: string,
  seconds: number,
  kind: 'branch' | 'preview' = 'branch',
): NewRevision {
  return {
    id,
    repository_id: 'repo',
    sha,
    ref: kind === 'branch' ? 'refs/heads/main' : 'refs/pull/1/head',
    kind,
    message: `commit ${sha}: “quoted” ✓`,
    author: 'Ada <ada@example.org>',
    committed_at: at(seconds),
    discovered_at: at(seconds),
    status: 'pending',
    error_text: null,
    evaluation_json: null,
    evaluated_at: null,
    base_revision_id: null,
  };
}

/** The repositories of one test's own database, with repository `repo` linked. */
async function repositories(db: Db) {
  await new RepositoryLinkRepository(db).insert({
    id: 'repo',
    url: 'https://example.org/fleet.git',
    branch: 'main',
    flake_dir: '',
    auth_kind: 'none',
    ssh_key_file: null,
    poll_interval_seconds: 60,
    allow_force_push: 1,
    source: 'config',
    followed_sha: null,
    force_push_sha: null,
    force_push_at: null,
    last_fetch_at: null,
    last_fetch_error: null,
    created_at: T0,
    updated_at: T0,
  });
  const builds = new BuildRepository(db);
  const addBuild = async (
    id: string,
    host: string,
    status: 'queued' | 'running' | 'succeeded',
    seconds: number,
  ) => {
    await builds.insert({
      id,
      revision_id: 'rv1',
      host_name: host,
      drv_path: `/nix/store/${host}.drv`,
      kind: 'release',
      status,
      attempt: 1,
      builders: null,
      created_at: at(seconds),
      started_at: null,
      finished_at: status === 'succeeded' ? at(seconds + 1) : null,
      out_path: status === 'succeeded' ? `/nix/store/${id}-out` : null,
      closure_size: null,
      error_summary: null,
    });
  };
  return {
    revisions: new RevisionRepository(db),
    evaluations: new EvaluationRepository(db),
    builds,
    releases: new ReleaseRepository(db),
    cache: new CacheRepository(db),
    addBuild,
  };
}

for (const engine of testDatabases()) {
  describe(
    `revisions, builds, releases and the cache index on ${engine.name}`,
    { concurrency: true },
    () => {
      it('records a revision once per repository, ref and sha (the unique constraint decides)', () =>
        engine.withDatabase(async (db) => {
          const { revisions } = await repositories(db);
          const first = await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          assert.equal(first.created, true);
          const again = await revisions.insertIfAbsent(revision('rv2', 'aaa', 5));
          assert.equal(again.created, false, 'a conflicting insert is skipped, not an error');
          assert.equal(again.row.id, 'rv1');
          assert.equal(again.row.message, 'commit aaa: “quoted” ✓');
          const preview = await revisions.insertIfAbsent(revision('rv3', 'aaa', 6, 'preview'));
          assert.equal(preview.created, true, 'another ref is another revision');
          await revisions.insertIfAbsent(revision('rv4', 'bbb', 10));

          assert.deepEqual(
            (await revisions.list('repo', { limit: 10 })).map((r) => r.id),
            ['rv4', 'rv3', 'rv1'],
          );
          assert.deepEqual(
            (await revisions.list('repo', { kind: 'branch', limit: 1 })).map((r) => r.id),
            ['rv4'],
          );
          assert.equal(await revisions.find('rv2'), undefined);
        }));

      it('claims, saves and reads back an evaluation as JSON text', () =>
        engine.withDatabase(async (db) => {
          const { revisions, evaluations } = await repositories(db);
          await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          await revisions.insertIfAbsent(revision('rv2', 'bbb', 1));
          assert.equal(await evaluations.markEvaluating('rv1'), true);
          assert.equal(await evaluations.markEvaluating('rv1'), false, 'claimed once');
          const evaluation = {
            nixos: { alpha: '/nix/store/a.drv' },
            darwin: [],
            home: [],
            hostErrors: { beta: 'error: “attribute missing”' },
          } as unknown as Evaluation;
          await evaluations.saveEvaluation('rv1', evaluation, at(3));
          const stored = await evaluations.revision('rv1');
          assert.equal(stored?.status, 'evaluated');
          assert.deepEqual(parseEvaluation(stored.evaluation_json), evaluation);
          assert.equal((await evaluations.latestEvaluatedBranch('repo'))?.id, 'rv1');
          assert.equal(await evaluations.markEvaluating('rv2'), true);
          assert.deepEqual(
            (await evaluations.unfinished()).map((r) => r.id),
            ['rv2'],
            'an evaluation a stopped controller left is pending again',
          );
        }));

      it('queues builds in order, moves them only from the given statuses and requeues running ones', () =>
        engine.withDatabase(async (db) => {
          const { revisions, builds, addBuild } = await repositories(db);
          await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          await addBuild('b2', 'beta', 'queued', 0);
          await addBuild('b1', 'alpha', 'queued', 0);
          await addBuild('b3', 'gamma', 'queued', 1);
          assert.deepEqual(
            (await builds.nextQueued(2)).map((b) => b.id),
            ['b1', 'b2'],
          );
          assert.equal(
            await builds.transition('b1', ['queued'], { status: 'running', started_at: at(2) }),
            true,
          );
          assert.equal(await builds.transition('b1', ['queued'], { status: 'cancelled' }), false);
          const requeued = await builds.requeueRunning();
          assert.deepEqual(
            requeued.map((b) => b.id),
            ['b1'],
          );
          const b1 = await builds.findById('b1');
          assert.equal(b1?.status, 'queued');
          assert.equal(b1.started_at, null);
          assert.equal(b1.attempt, 1);
          assert.deepEqual(await builds.requeueRunning(), []);
          assert.deepEqual(
            (await builds.list({ limit: 10, host: 'beta' })).map((b) => b.id),
            ['b2'],
          );
          assert.deepEqual((await builds.forRevision('rv1')).map((b) => b.id).sort(), [
            'b1',
            'b2',
            'b3',
          ]);
        }));

      it('returns a closure size over 4 GiB as the same number, and reuses the newest successful build', () =>
        engine.withDatabase(async (db) => {
          const { revisions, builds, addBuild } = await repositories(db);
          await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          await addBuild('b1', 'alpha', 'succeeded', 0);
          await addBuild('b2', 'alpha', 'succeeded', 10);
          await addBuild('b3', 'alpha', 'queued', 20);
          await builds.transition('b2', ['succeeded'], { closure_size: BIG_CLOSURE });
          const b2 = await builds.findById('b2');
          assert.equal(b2?.closure_size, BIG_CLOSURE);
          assert.equal((await builds.succeededForDrv('/nix/store/alpha.drv'))?.id, 'b2');
          assert.equal(await builds.succeededForDrv('/nix/store/none.drv'), undefined);
        }));

      it('appends build log lines and adds their bytes to the build, in one transaction', () =>
        engine.withDatabase(async (db) => {
          const { revisions, builds, addBuild } = await repositories(db);
          await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          await addBuild('b1', 'alpha', 'running', 0);
          assert.equal(await builds.lastLogSeq('b1'), 0);
          await builds.appendLog(
            'b1',
            1,
            [{ at: at(1), line: 'building ‘/nix/store/x.drv’…' }],
            40,
            false,
          );
          await builds.appendLog(
            'b1',
            2,
            [
              { at: at(2), line: 'copying path' },
              { at: at(2), line: 'output with a NUL \u0000 byte' },
            ],
            2,
            true,
          );
          await builds.appendLog('b1', 4, [], 1000, true);
          const b1 = await builds.findById('b1');
          assert.equal(b1?.log_bytes, 42);
          assert.equal(b1.log_truncated, 1);
          assert.equal(await builds.lastLogSeq('b1'), 3);
          assert.deepEqual(await builds.readLog('b1', 1, 10), [
            { seq: 2, at: at(2), line: 'copying path' },
            { seq: 3, at: at(2), line: 'output with a NUL \uFFFD byte' },
          ]);
          await assert.rejects(builds.appendLog('b1', 3, [{ at: at(3), line: 'dup' }], 3, false));
          assert.equal(
            (await builds.findById('b1'))?.log_bytes,
            42,
            'a failed append adds nothing',
          );
        }));

      it('keeps one release per host and revision, lists them with their commit and supersedes older ones', () =>
        engine.withDatabase(async (db) => {
          const { revisions, releases, addBuild } = await repositories(db);
          await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          await revisions.insertIfAbsent(revision('rv2', 'bbb', 100));
          await addBuild('b1', 'alpha', 'succeeded', 0);
          const release = (
            id: string,
            revisionId: string,
            seconds: number,
            status: 'ready' | 'publishing',
          ) =>
            releases.insert({
              id,
              host_name: 'alpha',
              revision_id: revisionId,
              build_id: 'b1',
              drv_path: '/nix/store/alpha.drv',
              store_path: `/nix/store/${id}`,
              closure_size: BIG_CLOSURE,
              previous_release_id: null,
              status,
              created_at: at(seconds),
            });
          await release('r1', 'rv1', 0, 'ready');
          await release('r2', 'rv2', 100, 'ready');
          await assert.rejects(
            release('r3', 'rv2', 200, 'ready'),
            'one release per host and revision',
          );

          const view = await releases.findById('r2');
          assert.equal(view?.sha, 'bbb');
          assert.equal(view.closure_size, BIG_CLOSURE);
          assert.equal((await releases.findForHostRevision('alpha', 'rv1'))?.id, 'r1');
          assert.equal(await releases.supersedeOlder('alpha', 'r2'), 1);
          assert.equal(await releases.supersedeOlder('alpha', 'r2'), 0);
          assert.deepEqual(
            (await releases.list({ limit: 10 })).map((r) => [r.id, r.status]),
            [
              ['r2', 'ready'],
              ['r1', 'superseded'],
            ],
          );
          assert.deepEqual(
            (await releases.list({ limit: 10, status: 'superseded', host: 'alpha' })).map(
              (r) => r.id,
            ),
            ['r1'],
          );
          await releases.setStatus('r2', 'publishing');
          assert.equal(
            (await releases.latestForHost('alpha'))?.id,
            'r1',
            'publishing is not yet published',
          );
          await releases.setStatus('r2', 'ready');
          await releases.markDeployed('r2');
          assert.equal((await releases.latestForHost('alpha'))?.status, 'deployed');
          await releases.setStatus('r1', 'quarantined');
          await releases.markDeployed('r1');
          assert.equal(
            (await releases.findById('r1'))?.status,
            'quarantined',
            'a quarantined release stays quarantined',
          );
        }));

      it('indexes a closure once however often it is published, and answers what a host may read', () =>
        engine.withDatabase(async (db) => {
          const { revisions, releases, cache, addBuild } = await repositories(db);
          await revisions.insertIfAbsent(revision('rv1', 'aaa', 0));
          await revisions.insertIfAbsent(revision('rv2', 'bbb', 1));
          await addBuild('b1', 'alpha', 'succeeded', 0);
          for (const [id, host, rev] of [
            ['r1', 'alpha', 'rv1'],
            ['r2', 'beta', 'rv1'],
            ['r3', 'alpha', 'rv2'],
          ] as const) {
            await releases.insert({
              id,
              host_name: host,
              revision_id: rev,
              build_id: 'b1',
              drv_path: '/nix/store/x.drv',
              store_path: `/nix/store/${id}`,
              closure_size: null,
              previous_release_id: null,
              status: 'publishing',
              created_at: T0,
            });
          }
          // More paths than one insert batch holds.
          const closure: CachedPath[] = Array.from({ length: 650 }, (_, i) => ({
            storeHash: storeHash(i),
            narFile: `nar${i}.nar.xz`,
          }));
          const shared = { storeHash: 'sharedhash', narFile: 'shared.nar.xz' };
          await cache.recordRelease('r1', 'alpha', [...closure, shared]);
          await cache.recordRelease('r1', 'alpha', [...closure, shared]);
          await cache.recordRelease('r2', 'beta', [
            shared,
            { storeHash: 'betaonly', narFile: 'shared.nar.xz' },
          ]);

          const count = async (table: 'release_paths' | 'cache_nars') =>
            Number(
              (
                await db
                  .selectFrom(table)
                  .select((eb) => eb.fn.countAll<number>().as('n'))
                  .executeTakeFirstOrThrow()
              ).n,
            );
          assert.equal(await count('release_paths'), 651 + 2);
          assert.equal(
            await count('cache_nars'),
            651 + 1,
            'one NAR file may hold two identical paths',
          );

          assert.equal(await cache.hostMayReadPath('alpha', storeHash(649)), true);
          assert.equal(await cache.hostMayReadPath('beta', storeHash(649)), false);
          assert.equal(await cache.hostMayReadPath('beta', 'sharedhash'), true);
          assert.equal(await cache.hostMayReadNar('alpha', 'nar0.nar.xz'), true);
          assert.equal(await cache.hostMayReadNar('beta', 'nar0.nar.xz'), false);
          assert.equal(
            await cache.hostMayReadNar('alpha', 'shared.nar.xz'),
            true,
            'through sharedhash',
          );
          assert.equal(await cache.hostMayReadNar('gamma', 'shared.nar.xz'), false);

          await releases.delete('r1');
          assert.equal(
            await cache.hostMayReadPath('alpha', 'sharedhash'),
            false,
            'deleting a release drops its paths',
          );
          assert.equal(await count('release_paths'), 2);
        }));
    },
  );
}
