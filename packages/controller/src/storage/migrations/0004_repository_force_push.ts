import type { Kysely } from 'kysely';
import type { SqlDialectName } from './index.js';

/**
 * A rewritten branch head that is reported but not followed (force pushes not allowed),
 * kept on the repository so the report survives restarts and each rewritten head is
 * recorded as an event only once.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema.alterTable('repositories').addColumn('force_push_sha', 'text').execute();
  await db.schema.alterTable('repositories').addColumn('force_push_at', 'text').execute();
}
