import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * Agent identities: each host's Ed25519 public keys (`agent_keys`, at most one active per
 * host) and one-time enrollment tokens (`enrollment_tokens`, hashed). The static agent
 * tokens of earlier versions are retired: `hosts.token_hash` is dropped, and every host
 * that had one must enroll (`flotilla host enroll NAME`); an audit entry per host says so.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  const now = new Date().toISOString();
  await sql`insert into events (at, kind, actor, host_name, data_json)
    select ${now}, 'host.token_retired', 'migration', name,
      '{"reason":"static agent tokens are retired; enroll the host: flotilla host enroll NAME"}'
    from hosts`.execute(db);
  if (dialect === 'postgres') {
    await sql`alter table hosts drop column token_hash`.execute(db);
  } else {
    await dropTokenHashOnSqlite(db);
  }

  await db.schema
    .createTable('agent_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host_name', 'text', (c) => c.notNull().references('hosts.name').onDelete('cascade'))
    // Ed25519, the 32 raw bytes in base64url; only public keys ever reach the controller.
    .addColumn('public_key', 'text', (c) => c.notNull())
    // `SHA256:<base64>`, what the agent names its key with in its hello.
    .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
    .addColumn('enrolled_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_by', 'text')
    .addColumn('revoke_reason', 'text')
    .execute();
  // One active key per host: two enrollments at once cannot both win.
  await sql`create unique index agent_keys_one_active_per_host on agent_keys (host_name)
    where revoked_at is null`.execute(db);

  await db.schema
    .createTable('enrollment_tokens')
    // SHA-256 of the token, hex; the token itself is shown once and never stored.
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('host_name', 'text', (c) => c.notNull().references('hosts.name').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    // The key this token enrolled.
    .addColumn('key_id', 'text')
    // Superseded by a newer token, or the host was revoked.
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createIndex('enrollment_tokens_host')
    .on('enrollment_tokens')
    .column('host_name')
    .execute();
}

/**
 * SQLite cannot drop a UNIQUE column, so `hosts` is rebuilt without it as SQLite's manual
 * describes (https://www.sqlite.org/lang_altertable.html#otheralter): with foreign keys
 * off — dropping the old table would otherwise delete every host's deployments through
 * their cascade — a copy is made from the table's own CREATE statement minus the column,
 * filled, swapped in and its indexes recreated, in one transaction; then the references
 * are checked. Working from the stored statement keeps any column or constraint another
 * migration added to `hosts`. Kysely runs SQLite migrations outside a transaction, which
 * is what lets this one switch foreign keys off.
 */
async function dropTokenHashOnSqlite(db: Kysely<unknown>): Promise<void> {
  const table = await sql<{
    sql: string;
  }>`select sql from sqlite_master where type = 'table' and name = 'hosts'`.execute(db);
  const create = table.rows[0]?.sql ?? '';
  const column = /,\s*"token_hash" text not null unique/;
  const renamed = create.replace(
    /^CREATE TABLE (IF NOT EXISTS )?"hosts"/i,
    'create table "hosts_new"',
  );
  if (!column.test(renamed) || renamed === create) {
    throw new Error(`unexpected definition of table hosts: ${create}`);
  }
  const indexes = await sql<{
    sql: string;
  }>`select sql from sqlite_master where type = 'index' and tbl_name = 'hosts' and sql is not null`.execute(
    db,
  );
  const columns = await sql<{ name: string }>`select name from pragma_table_info('hosts')`.execute(
    db,
  );
  const kept = columns.rows
    .map((c) => c.name)
    .filter((name) => name !== 'token_hash')
    .map((name) => `"${name}"`)
    .join(', ');

  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      await sql.raw(renamed.replace(column, '')).execute(trx);
      await sql.raw(`insert into "hosts_new" (${kept}) select ${kept} from "hosts"`).execute(trx);
      await sql`drop table hosts`.execute(trx);
      await sql`alter table hosts_new rename to hosts`.execute(trx);
      for (const index of indexes.rows) await sql.raw(index.sql).execute(trx);
      const broken = await sql`pragma foreign_key_check`.execute(trx);
      if (broken.rows.length > 0) {
        throw new Error(`rebuilding hosts broke ${broken.rows.length} references`);
      }
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}
