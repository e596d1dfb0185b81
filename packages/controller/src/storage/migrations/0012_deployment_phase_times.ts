import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * When a deployment first entered each phase its agent reported (fetching, activating,
 * confirming…): one row per deployment and phase, so the deployment's page shows the time
 * of each phase without reading it out of the log.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('deployment_phases')
    .addColumn('deployment_id', 'text', (c) =>
      c.notNull().references('deployments.id').onDelete('cascade'),
    )
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployment_phases_pk', ['deployment_id', 'phase'])
    .execute();
}
