import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { testDatabases, type EmptyDatabase } from '../../testing/test-databases.js';
import { openDatabase } from '../database.js';
import { InlineMigrationProvider } from './index.js';

/** A database of the engine at the schema before agent identities, with foreign keys on. */
async function openAt0006(empty: EmptyDatabase): Promise<Kysely<unknown>> {
  const db =
    empty.engine === 'postgres'
      ? new Kysely<unknown>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: empty.url }) }),
        })
      : new Kysely<unknown>({
          dialect: new SqliteDialect({
            database: (() => {
              const sqlite = new SQLite(empty.url.replace(/^sqlite:/, ''));
              sqlite.pragma('foreign_keys = ON');
              return sqlite;
            })(),
          }),
        });
  const migrator = new Migrator({
    db,
    provider: new InlineMigrationProvider(empty.engine),
  });
  const { error } = await migrator.migrateTo('0006_rules');
  if (error instanceof Error) throw error;
  assert.equal(error, undefined, 'migrated to 0006');
  return db;
}

for (const engine of testDatabases()) {
  describe(`migration 0008 (agent identities) on ${engine.name}`, () => {
    const created: EmptyDatabase[] = [];
    after(async () => {
      for (const empty of created) await empty.remove();
    });

    it("retires static tokens without losing a host's deployments, logs or facts", async () => {
      const empty = await engine.create();
      created.push(empty);
      const old = await openAt0006(empty);
      await sql`insert into hosts (name, mode, os, token_hash, created_at, facts_json)
        values ('hsb1', 'managed', 'linux', 'hash-1', '2026-01-01T00:00:00.000Z', '{"k":1}'),
               ('imac0', 'monitor', 'darwin', 'hash-2', '2026-01-01T00:00:00.000Z', null)`.execute(
        old,
      );
      await sql`insert into deployments (id, host_name, store_path, action, status, actor, created_at)
        values ('d1', 'hsb1', '/nix/store/x', 'switch', 'succeeded', 'admin', '2026-01-02T00:00:00.000Z')`.execute(
        old,
      );
      await sql`insert into deployment_logs (deployment_id, seq, at, stream, line)
        values ('d1', 1, '2026-01-02T00:00:00.000Z', 'agent', 'kept')`.execute(old);
      await old.destroy();

      const { db } = await openDatabase({ url: empty.url });
      try {
        const hosts = await sql<Record<string, unknown>>`select * from hosts order by name`.execute(
          db,
        );
        assert.deepEqual(
          hosts.rows.map((h) => [h.name, h.mode, h.os, h.facts_json]),
          [
            ['hsb1', 'managed', 'linux', '{"k":1}'],
            ['imac0', 'monitor', 'darwin', null],
          ],
        );
        assert.ok(
          hosts.rows.every((h) => !('token_hash' in h)),
          'the token hashes are gone',
        );
        const deployments = await db
          .selectFrom('deployments')
          .select(['id', 'host_name'])
          .execute();
        assert.deepEqual(deployments, [{ id: 'd1', host_name: 'hsb1' }], 'deployments survive');
        const logs = await db.selectFrom('deployment_logs').select('line').execute();
        assert.deepEqual(logs, [{ line: 'kept' }]);
        const retired = await db
          .selectFrom('events')
          .select(['host_name', 'actor'])
          .where('kind', '=', 'host.token_retired')
          .orderBy('host_name')
          .execute();
        assert.deepEqual(retired, [
          { host_name: 'hsb1', actor: 'migration' },
          { host_name: 'imac0', actor: 'migration' },
        ]);
        // References still hold both ways: removing a host removes its deployments, and a
        // deployment of an unknown host is refused.
        await assert.rejects(
          sql`insert into deployments (id, host_name, store_path, action, status, actor, created_at)
            values ('d2', 'ghost', '/nix/store/y', 'switch', 'queued', 'admin', 'now')`.execute(db),
        );
        await db.deleteFrom('hosts').where('name', '=', 'hsb1').execute();
        assert.deepEqual(await db.selectFrom('deployments').select('id').execute(), []);
        // Registering works without a token column.
        await db
          .insertInto('hosts')
          .values({ name: 'gpc0', mode: 'managed', os: null, created_at: 'now' })
          .execute();
      } finally {
        await db.destroy();
      }
    });
  });
}
