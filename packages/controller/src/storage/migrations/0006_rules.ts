import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * Rules that hold, in the schema: at most one waiting and one in-flight deployment per host
 * (partial unique indexes, so two simultaneous requests cannot both pass a check), a log
 * sequence counter per deployment (two writers cannot take the same number), force flags
 * for skipping a wave, one idea of "monitor" (the host's mode), quarantine as a release
 * status.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .alterTable('deployments')
    .addColumn('log_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update deployments set log_seq = coalesce(
      (select max(seq) from deployment_logs where deployment_logs.deployment_id = deployments.id), 0)`.execute(
    db,
  );
  await db.schema
    .alterTable('deployments')
    .addColumn('override_wave', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Why a person skipped a wave, a window or a quarantine (`--force --reason`).
  await db.schema.alterTable('deployments').addColumn('force_reason', 'text').execute();

  // Older versions could leave two waiting deployments for one host; the newest one wins.
  const now = new Date().toISOString();
  await sql`update deployments set status = 'superseded', finished_at = ${now}
    where status in ('awaiting_approval', 'approved')
      and id not in (select max(id) from deployments
                     where status in ('awaiting_approval', 'approved') group by host_name)`.execute(
    db,
  );
  await sql`update deployments set status = 'cancelled', finished_at = ${now}
    where status = 'queued'
      and id not in (select max(id) from deployments
                     where status in ('queued', 'activating', 'confirming') group by host_name)`.execute(
    db,
  );
  await sql`create unique index deployments_one_waiting_per_host on deployments (host_name)
    where status in ('awaiting_approval', 'approved')`.execute(db);
  await sql`create unique index deployments_one_in_flight_per_host on deployments (host_name)
    where status in ('queued', 'activating', 'confirming')`.execute(db);

  // `monitor` is the host's mode, not also a policy.
  await sql`update hosts set mode = 'monitor'
    where name in (select host_name from host_policies where policy = 'monitor')`.execute(db);
  await sql`update host_policies set policy = 'manual' where policy = 'monitor'`.execute(db);

  await sql`update releases set status = 'quarantined'
    where id in (select release_id from quarantined_releases)`.execute(db);
}
