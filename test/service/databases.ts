import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** One database of the engines the controller supports, fresh for one test suite. */
export interface TestDatabase {
  engine: 'sqlite' | 'postgres';
  /** What `databaseUrl` takes. */
  url: string;
  drop(): Promise<void>;
}

/** How to get a fresh database of one engine. */
export interface Engine {
  name: 'sqlite' | 'postgres';
  create(): Promise<TestDatabase>;
}

const sqlite: Engine = {
  name: 'sqlite',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-sqlite-'));
    return {
      engine: 'sqlite',
      url: join(dir, 'flotilla.db'),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

/**
 * PostgreSQL through the server the test command starts (its URL in
 * `FLOTILLA_TEST_POSTGRES_URL`): each suite gets a database of its own, dropped afterwards.
 */
function postgres(serverUrl: string): Engine {
  return {
    name: 'postgres',
    async create() {
      const name = `flotilla_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return {
        engine: 'postgres',
        url: url.toString(),
        async drop() {
          const client = new pg.Client({ connectionString: serverUrl });
          await client.connect();
          try {
            await client.query(`drop database if exists ${name} with (force)`);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

/**
 * The engines every service suite runs on: SQLite always, PostgreSQL when the test command
 * started a server. `npm test` always starts one, so a run without it says so loudly.
 */
export function engines(env: NodeJS.ProcessEnv = process.env): Engine[] {
  const url = env.FLOTILLA_TEST_POSTGRES_URL;
  if (url === undefined || url === '') {
    if (env.FLOTILLA_TEST_REQUIRE_POSTGRES === '1')
      throw new Error(
        'FLOTILLA_TEST_POSTGRES_URL is not set: the test command did not start PostgreSQL',
      );
    return [sqlite];
  }
  return [sqlite, postgres(url)];
}
