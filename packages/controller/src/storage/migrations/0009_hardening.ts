import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * What the controller remembers to refuse forgeries and replays: the GitHub webhook
 * deliveries it acted on (a replayed delivery id is refused; rows are kept for a bounded
 * time) and the reboots it asked hosts for (a `reboot.result` is taken only for one).
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('webhook_deliveries')
    // GitHub's X-GitHub-Delivery (a GUID), unique per delivery.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_by_time')
    .on('webhook_deliveries')
    .column('received_at')
    .execute();

  await db.schema
    .createTable('reboot_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    // Set when the host reported the outcome; a request is answered once.
    .addColumn('answered_at', 'text')
    .execute();
  await db.schema
    .createIndex('reboot_requests_by_host')
    .on('reboot_requests')
    .columns(['host_name', 'requested_at'])
    .execute();
}
