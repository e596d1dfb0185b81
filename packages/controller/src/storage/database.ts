import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { InlineMigrationProvider, type SqlDialectName } from './migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface OpenDatabaseOptions {
  /** `sqlite:<path>` / a plain file path, or `postgres://…`. */
  url: string;
}

export interface OpenedDatabase {
  db: Db;
  dialect: SqlDialectName;
}

/**
 * Opens the database, applies pending migrations and returns the query builder.
 * SQLite runs in WAL mode with foreign keys on; `synchronous=NORMAL` is durable across
 * process crashes in WAL mode (only an OS crash can lose the last transactions).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const isPostgres = /^postgres(ql)?:\/\//.test(options.url);
  let db: Db;
  if (isPostgres) {
    db = new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: options.url, max: 10 }),
      }),
    });
  } else {
    const file = options.url.replace(/^sqlite:/, '');
    mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  const dialect: SqlDialectName = isPostgres ? 'postgres' : 'sqlite';
  const migrator = new Migrator({ db, provider: new InlineMigrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    const reason =
      error instanceof Error ? error.message : `migration ${failed?.migrationName ?? '?'} failed`;
    throw new Error(`database migration failed: ${reason}`);
  }
  return { db, dialect };
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
