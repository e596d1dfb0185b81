import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { InlineMigrationProvider, type SqlDialectName } from './migrations/index.js';
import { ReplaceNulPlugin } from './replace-nul.plugin.js';
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
 * PostgreSQL sends bigint (count(*), bigserial ids, byte sizes) as text, which `pg` keeps as
 * a string; SQLite returns a number. Both return numbers here, and a value a number cannot
 * hold exactly fails the query instead of being rounded.
 */
function postgresTypes(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: (oid, format) =>
      oid === types.builtins.INT8 && format !== 'binary'
        ? parseBigint
        : (types.getTypeParser(oid, format) as (value: string) => unknown),
  };
}

function parseBigint(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`bigint ${text} does not fit in a number`);
  return value;
}

/**
 * Opens the database, applies pending migrations and returns the query builder.
 * SQLite runs in WAL mode with foreign keys on; `synchronous=NORMAL` is durable across
 * process crashes in WAL mode (only an OS crash can lose the last transactions).
 */
/**
 * The database holds hashes of host tokens, the audit log and the fleet's state: it is
 * created 0600, and an existing one (with its WAL and shared-memory files) tightened to
 * that. SQLite gives the `-wal` and `-shm` files it creates the database file's mode.
 */
function makePrivate(file: string): void {
  if (file === ':memory:' || file === '') return;
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path)) chmodSync(path, 0o600);
  }
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const isPostgres = /^postgres(ql)?:\/\//.test(options.url);
  let db: Db;
  // Each engine's driver is loaded only when it is used (a controller on SQLite never loads
  // pg, and the other way round): less to load at every start.
  if (isPostgres) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      types: postgresTypes(pg.types),
    });
    // An idle connection the server ends (restart, failover, an administrator) is reported
    // here and already dropped by the pool; the next query opens a new one. Without a
    // listener the 'error' event would end the whole process.
    pool.on('error', () => undefined);
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      plugins: [new ReplaceNulPlugin()],
    });
  } else {
    const file = options.url.replace(/^sqlite:/, '');
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    makePrivate(file);
    // A native CommonJS module, required (not imported): the bundled controller runs from a
    // code cache, where a dynamic import() has nothing to resolve it (scripts/bundle.mjs).
    const SQLite = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: sqlite }),
      plugins: [new ReplaceNulPlugin()],
    });
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
