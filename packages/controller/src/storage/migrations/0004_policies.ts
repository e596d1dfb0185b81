import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * Human in the loop: per-host policies and pins, approvals on deployments, quarantine, halted rollouts.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('host_policies')
    .addColumn('host_name', 'text', (c) => c.primaryKey())
    .addColumn('policy', 'text', (c) => c.notNull())
    // 'default' | 'api' | 'config' | 'demoted' (a config `auto` host demoted for safety)
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('stable_since', 'text')
    .addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pin_reason', 'text')
    .addColumn('eligible_notified_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('quarantined_releases')
    .addColumn('release_id', 'text', (c) => c.primaryKey())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('rollout_halts')
    .addColumn('revision_id', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();

  for (const [column, type] of [
    ['revision_id', 'text'],
    ['approved_by', 'text'],
    ['approved_at', 'text'],
    ['approval_comment', 'text'],
    ['hold_reason', 'text'],
  ] as const) {
    await db.schema.alterTable('deployments').addColumn(column, type).execute();
  }
  await db.schema
    .alterTable('deployments')
    .addColumn('override_window', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
