import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * Safe activation: what a deployment rolled back from, and whether it needs a reboot.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .alterTable('deployments')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('deploy'))
    .execute();
  await db.schema.alterTable('deployments').addColumn('previous_system', 'text').execute();
  await db.schema
    .alterTable('deployments')
    .addColumn('reboot_required', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
