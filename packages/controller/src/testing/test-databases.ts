import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Db } from '../storage/database.js';
import type { SqlDialectName } from '../storage/migrations/index.js';

/**
 * Test support, never loaded by the controller itself: both storage engines for one suite.
 *
 * The test runner (scripts/run-tests.mjs) starts one throwaway PostgreSQL server per run and
 * passes its superuser URL in this variable. Every test gets a database of its own, opened
 * through the controller's own `openDatabase`, so tests never see each other's rows and may
 * run concurrently:
 *
 *   for (const engine of testDatabases()) {
 *     describe(`… on ${engine.name}`, { concurrency: true }, () => {
 *       it('…', () => engine.withDatabase(async (db) => { … }));
 *     });
 *   }
 *
 * Without the variable the PostgreSQL engine fails loudly instead of being skipped: run tests
 * through `npm test` / `node scripts/run-tests.mjs`, or point it at a server of your own
 * (databases named flotilla_test_* and flotilla_template_* are created on it; test databases
 * are dropped, the migrated template is kept for later runs).
 */
export const TEST_POSTGRES_URL_VARIABLE = 'FLOTILLA_TEST_POSTGRES_URL';

/** An empty database of one engine that nothing has opened yet. */
export interface EmptyDatabase {
  engine: SqlDialectName;
  /** What `openDatabase` and `FLOTILLA_DATABASE_URL` take. */
  url: string;
  /** Deletes the database (PostgreSQL: also disconnects whoever is still connected). */
  remove(): Promise<void>;
}

/** A fresh database opened (and migrated) through the controller's own `openDatabase`. */
export interface TestDatabase extends EmptyDatabase {
  db: Db;
  /** Closes the connection(s) and removes the database. */
  close(): Promise<void>;
}

export interface TestEngine {
  name: SqlDialectName;
  /** A new, empty database (no migrations run), e.g. for a controller process. */
  create(): Promise<EmptyDatabase>;
  /** A new database with every migration applied; `close()` it when done. */
  open(): Promise<TestDatabase>;
  /** Runs `use` on a new, migrated database and removes it afterwards, also on failure. */
  withDatabase<T>(use: (db: Db) => Promise<T>): Promise<T>;
}

/** SQLite (a file in a temp dir) and PostgreSQL (a database on the run's server). */
export function testDatabases(): TestEngine[] {
  return [
    engine('sqlite', freshSqliteDatabase, migratedSqliteDatabase),
    engine('postgres', freshPostgresDatabase, migratedPostgresDatabase),
  ];
}

function engine(
  name: SqlDialectName,
  create: () => Promise<EmptyDatabase>,
  createMigrated: () => Promise<EmptyDatabase>,
): TestEngine {
  const open = async (): Promise<TestDatabase> => {
    const empty = await createMigrated();
    try {
      const { db } = await openDatabase({ url: empty.url });
      return {
        ...empty,
        db,
        async close() {
          await db.destroy();
          await empty.remove();
        },
      };
    } catch (error) {
      await empty.remove();
      throw error;
    }
  };
  return {
    name,
    create,
    open,
    async withDatabase(use) {
      const opened = await open();
      try {
        return await use(opened.db);
      } finally {
        await opened.close();
      }
    },
  };
}

/** The run's PostgreSQL server; throws when the runner did not provide one. */
export function testPostgresUrl(): string {
  const url = process.env[TEST_POSTGRES_URL_VARIABLE];
  if (!url) {
    throw new Error(
      `${TEST_POSTGRES_URL_VARIABLE} is not set: run tests through \`npm test\` or ` +
        '`node scripts/run-tests.mjs`, which start a PostgreSQL server, or set it to a ' +
        'superuser URL of a server whose databases may be created and dropped',
    );
  }
  return url;
}

/** A new, empty database (CREATE DATABASE, uniquely named) on the run's PostgreSQL server. */
export async function freshPostgresDatabase(): Promise<EmptyDatabase> {
  return postgresDatabase(testPostgresUrl(), '');
}

/** A new SQLite file in a new temp dir (created on first open). */
export async function freshSqliteDatabase(): Promise<EmptyDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-sqlite-'));
  return {
    engine: 'sqlite',
    url: join(dir, 'flotilla.db'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/*
 * Migrated databases are copies of a template migrated once: copying is several times
 * faster than running every migration for every test, and openDatabase still checks that
 * nothing is pending. Migrations themselves are tested from empty (migrations.engines.test.ts).
 */

let sqliteTemplate: Promise<string> | undefined;

async function migratedSqliteDatabase(): Promise<EmptyDatabase> {
  sqliteTemplate ??= (async () => {
    // Synchronous, so that the exit handler can remove it.
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'template.db');
    // Closing the last connection checkpoints the WAL into the file, so the file is complete.
    await (await openDatabase({ url: file })).db.destroy();
    return file;
  })();
  const template = await sqliteTemplate;
  const fresh = await freshSqliteDatabase();
  await copyFile(template, fresh.url);
  return fresh;
}

/** Serializes building the shared template between the test processes of a run. */
const TEMPLATE_LOCK = 0x466c6f74; // "Flot"

let postgresTemplate: Promise<string> | undefined;

async function migratedPostgresDatabase(): Promise<EmptyDatabase> {
  const serverUrl = testPostgresUrl();
  postgresTemplate ??= sharedPostgresTemplate(serverUrl);
  const template = await postgresTemplate;
  return postgresDatabase(serverUrl, ` TEMPLATE ${template} STRATEGY FILE_COPY`);
}

/**
 * One migrated template per server and set of migrations, shared by every test process: it
 * is named after a digest of the compiled migrations, built under an advisory lock by the
 * first process that needs it and marked a template only once complete (a half-built one
 * left by a killed process is built again).
 */
async function sharedPostgresTemplate(serverUrl: string): Promise<string> {
  const name = `flotilla_template_${await migrationsDigest()}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    const found = await client.query<{ datistemplate: boolean }>(
      'SELECT datistemplate FROM pg_database WHERE datname = $1',
      [name],
    );
    if (found.rows[0]?.datistemplate !== true) {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${name}`);
      await (await openDatabase({ url: databaseUrl(serverUrl, name) })).db.destroy();
      await client.query(`ALTER DATABASE ${name} IS_TEMPLATE true`);
    }
  } finally {
    await client.end(); // also releases the advisory lock
  }
  return name;
}

/** 16 hex digits over the compiled migration files, so a changed migration gets a new template. */
async function migrationsDigest(): Promise<string> {
  const dir = new URL('../storage/migrations/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.js')).sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(await readFile(new URL(file, dir)));
  return hash.digest('hex').slice(0, 16);
}

async function postgresDatabase(serverUrl: string, clauses: string): Promise<EmptyDatabase> {
  // Lower-case letters and digits only, so the name needs no escaping.
  const name = `flotilla_test_${randomBytes(8).toString('hex')}`;
  await maintenance(serverUrl, `CREATE DATABASE ${name}${clauses}`);
  return {
    engine: 'postgres',
    url: databaseUrl(serverUrl, name),
    // FORCE ends sessions a test leaked (or a killed controller left) instead of failing.
    remove: () => maintenance(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** One statement on the server's maintenance database (CREATE/DROP DATABASE cannot run in a transaction). */
async function maintenance(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
