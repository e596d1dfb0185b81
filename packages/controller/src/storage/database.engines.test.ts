import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { testDatabases, testPostgresUrl } from '../testing/test-databases.js';

for (const engine of testDatabases()) {
  describe(`the ${engine.name} database as openDatabase returns it`, { concurrency: true }, () => {
    it('returns counts and bigint values as numbers', async () => {
      const t = await engine.open();
      try {
        const row = await sql<{
          n: unknown;
          big: unknown;
        }>`select count(*) as n, cast(6442450944 as bigint) as big`.execute(t.db);
        assert.deepEqual(row.rows, [{ n: 1, big: 6442450944 }]);
      } finally {
        await t.close();
      }
    });

    it('stores U+0000 in any text as U+FFFD, in builder and raw queries alike', async () => {
      const t = await engine.open();
      try {
        await t.db
          .insertInto('hosts')
          .values({ name: 'a\u0000b', mode: 'managed', os: null, created_at: 'n\u0000w' })
          .execute();
        await sql`update hosts set os = ${'li\u0000nux'}`.execute(t.db);
        assert.deepEqual(
          await t.db.selectFrom('hosts').select(['name', 'created_at', 'os']).execute(),
          [{ name: 'a\uFFFDb', created_at: 'n\uFFFDw', os: 'li\uFFFDnux' }],
        );
        const found = await t.db
          .selectFrom('hosts')
          .select('name')
          .where('name', 'in', ['a\u0000b', 'other'])
          .execute();
        assert.equal(found.length, 1, 'lookups are replaced the same way');
      } finally {
        await t.close();
      }
    });

    if (engine.name === 'postgres') {
      it('refuses a bigint a number cannot hold instead of rounding it', async () => {
        const t = await engine.open();
        try {
          await assert.rejects(
            sql`select cast(9007199254740993 as bigint) as big`.execute(t.db),
            /does not fit in a number/,
          );
          const after = await sql<{ ok: number }>`select 1 as ok`.execute(t.db);
          assert.deepEqual(after.rows, [{ ok: 1 }], 'the connection is still usable');
        } finally {
          await t.close();
        }
      });

      it('keeps working when the server ends its idle connections', async () => {
        const t = await engine.open();
        try {
          await sql`select 1`.execute(t.db);
          const name = new URL(t.url).pathname.slice(1);
          const admin = new pg.Client({ connectionString: testPostgresUrl() });
          await admin.connect();
          try {
            const ended = await admin.query(
              'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1',
              [name],
            );
            assert.ok(
              ended.rowCount !== null && ended.rowCount > 0,
              'a pooled connection was ended',
            );
          } finally {
            await admin.end();
          }
          // The pool learns of the loss asynchronously: a query may still pick the dead
          // connection and fail; within the deadline a new connection must answer.
          const deadline = Date.now() + 10_000;
          for (;;) {
            try {
              const row = await sql<{ ok: number }>`select 1 as ok`.execute(t.db);
              assert.deepEqual(row.rows, [{ ok: 1 }]);
              break;
            } catch (error) {
              if (Date.now() > deadline) throw error;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
        } finally {
          await t.close();
        }
      });
    }
  });
}
