import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { schemaSnapshot, type TableSnapshot } from '../testing/schema-snapshot.js';
import { testDatabases, type EmptyDatabase } from '../testing/test-databases.js';
import { openDatabase } from './database.js';
import { InlineMigrationProvider, type SqlDialectName } from './migrations/index.js';
import type { Database } from './schema.js';

/** Every table of schema.ts; typed so that a table added there must be added here. */
const TABLES: Record<keyof Database, true> = {
  hosts: true,
  agent_keys: true,
  enrollment_tokens: true,
  deployments: true,
  deployment_logs: true,
  deployment_phases: true,
  events: true,
  repositories: true,
  revisions: true,
  builds: true,
  build_logs: true,
  releases: true,
  release_paths: true,
  cache_nars: true,
  host_policies: true,
  quarantined_releases: true,
  rollout_halts: true,
  notifications: true,
  notification_deliveries: true,
  users: true,
  recovery_codes: true,
  sessions: true,
  api_tokens: true,
  webhook_deliveries: true,
  reboot_requests: true,
  activation_plans: true,
  editor_drafts: true,
  editor_draft_files: true,
};

interface Migrated {
  empty: EmptyDatabase;
  schema: Map<string, TableSnapshot>;
}

describe('migrations from an empty database, on SQLite and PostgreSQL', () => {
  const migrated = new Map<SqlDialectName, Migrated>();

  before(async () => {
    for (const engine of testDatabases()) {
      const empty = await engine.create();
      const { db, dialect } = await openDatabase({ url: empty.url });
      try {
        assert.equal(dialect, engine.name);
        migrated.set(engine.name, { empty, schema: await schemaSnapshot(db, dialect) });
      } finally {
        await db.destroy();
      }
    }
  });

  after(async () => {
    for (const { empty } of migrated.values()) await empty.remove();
  });

  function schemaOf(engine: SqlDialectName): Map<string, TableSnapshot> {
    const entry = migrated.get(engine);
    assert.ok(entry, `${engine} was migrated`);
    return entry.schema;
  }

  it('creates every table of the schema, and only those, on each engine', () => {
    for (const engine of ['sqlite', 'postgres'] as const) {
      assert.deepEqual([...schemaOf(engine).keys()], Object.keys(TABLES).sort(), engine);
    }
  });

  it('gives every table the same columns, keys, indexes and references on both engines', () => {
    const sqlite = schemaOf('sqlite');
    const postgres = schemaOf('postgres');
    for (const [table, expected] of sqlite) {
      assert.deepEqual(postgres.get(table), expected, `table ${table}`);
    }
    // A sanity check of the comparison itself: it sees the columns it compares.
    const hosts = sqlite.get('hosts');
    assert.ok(hosts);
    assert.deepEqual(hosts.primaryKey, ['name']);
    assert.ok(hosts.columns.some((c) => c.name === 'created_at' && c.notNull));
    assert.ok(
      !hosts.columns.some((c) => c.name === 'token_hash'),
      'static agent tokens are retired (0008)',
    );
    assert.ok(
      sqlite
        .get('agent_keys')
        ?.indexes.some((i) => i.unique && i.name === 'agent_keys_one_active_per_host'),
      'one active key per host',
    );
    assert.deepEqual(
      sqlite.get('events')?.columns.find((c) => c.name === 'id')?.type,
      'auto-id',
      'events.id is assigned by the database',
    );
    assert.ok(
      sqlite
        .get('revisions')
        ?.indexes.some((i) => i.unique && i.columns.join() === 'repository_id,ref,sha'),
      'the unique constraint that revision discovery relies on',
    );
    assert.deepEqual(
      sqlite.get('editor_draft_files')?.primaryKey,
      ['draft_id', 'path'],
      'one row per file of a draft (0011)',
    );
  });

  it('changes nothing when the migrations run again, and keeps the rows', async () => {
    for (const engine of testDatabases()) {
      const entry = migrated.get(engine.name);
      assert.ok(entry);
      const first = await openDatabase({ url: entry.empty.url });
      await first.db
        .insertInto('hosts')
        .values({ name: 'kept', mode: 'managed', created_at: 'now' })
        .execute();
      await first.db.destroy();

      // A second start of the controller: openDatabase migrates to latest again.
      const { db, dialect } = await openDatabase({ url: entry.empty.url });
      try {
        const migrator = new Migrator({ db, provider: new InlineMigrationProvider(dialect) });
        const again = await migrator.migrateToLatest();
        assert.equal(again.error, undefined, engine.name);
        assert.deepEqual(again.results, [], `${engine.name}: no migration runs twice`);
        const applied = await migrator.getMigrations();
        assert.ok(applied.length >= 5, `${engine.name}: every migration is known`);
        assert.ok(
          applied.every((m) => m.executedAt !== undefined),
          `${engine.name}: every migration is recorded as executed`,
        );
        const records = await sql<{
          n: number | string;
        }>`select count(*) as n from kysely_migration`.execute(db);
        assert.equal(Number(records.rows[0]?.n), applied.length, `${engine.name}: once each`);
        assert.deepEqual(await schemaSnapshot(db, dialect), entry.schema, engine.name);
        const kept = await db.selectFrom('hosts').select('name').execute();
        assert.deepEqual(kept, [{ name: 'kept' }], `${engine.name}: rows survive`);
      } finally {
        await db.destroy();
      }
    }
  });
});
