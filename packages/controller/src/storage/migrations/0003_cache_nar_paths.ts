import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from './index.js';

/**
 * One NAR file can hold several store paths: NARs are content-addressed, so two paths
 * with identical contents (same files under different names) share one file. Keyed by
 * `nar_file` alone, the index kept only the first path, and a host allowed the second
 * one was refused the file. The key becomes (nar_file, store_hash); rows are kept.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('cache_nars_next')
    .addColumn('nar_file', 'text', (c) => c.notNull())
    .addColumn('store_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cache_nars_file_hash_pk', ['nar_file', 'store_hash'])
    .execute();
  await sql`insert into cache_nars_next (nar_file, store_hash) select nar_file, store_hash from cache_nars`.execute(
    db,
  );
  // Dropping the table drops its index `cache_nars_hash` too (SQLite and PostgreSQL).
  await db.schema.dropTable('cache_nars').execute();
  await db.schema.alterTable('cache_nars_next').renameTo('cache_nars').execute();
  await db.schema.createIndex('cache_nars_hash').on('cache_nars').column('store_hash').execute();
}
