import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * What a waiting deployment will change, as its host's agent prepared it: one row per
 * deployment, `pending` until the agent answers, then `ready` (with the plan as JSON),
 * `failed` (with the agent's error code and message) or `unavailable` (prefetching is off,
 * the agent is too old, the deployment started or ended first). `base_system` is the
 * system the plan compared with, so a plan the host has moved on from is asked for again.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('activation_plans')
    .addColumn('deployment_id', 'text', (c) =>
      c.primaryKey().references('deployments.id').onDelete('cascade'),
    )
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('store_path', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('reason', 'text')
    .addColumn('plan_json', 'text')
    .addColumn('base_system', 'text')
    // How often the agent was asked; failures are retried a few times, on reconnects.
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('requested_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('activation_plans_by_host')
    .on('activation_plans')
    .columns(['host_name', 'state'])
    .execute();
}
