import type { Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { HostPoliciesTable } from './schema.js';

export type HostPolicyRow = Selectable<HostPoliciesTable>;

/** Host policies and pins, quarantined releases and halted rollouts. */
export class PolicyRepository {
  constructor(private readonly db: Db) {}

  async find(host: string): Promise<HostPolicyRow | undefined> {
    return this.db
      .selectFrom('host_policies')
      .selectAll()
      .where('host_name', '=', host)
      .executeTakeFirst();
  }

  async all(): Promise<HostPolicyRow[]> {
    return this.db.selectFrom('host_policies').selectAll().orderBy('host_name').execute();
  }

  /** Creates the row if it is missing (first use of a host); never overwrites. */
  async ensure(
    row: Omit<HostPolicyRow, 'pinned' | 'pin_reason' | 'eligible_notified_at'>,
  ): Promise<void> {
    await this.db
      .insertInto('host_policies')
      .values({ ...row, pin_reason: null, eligible_notified_at: null })
      .onConflict((oc) => oc.column('host_name').doNothing())
      .execute();
  }

  async update(host: string, changes: Updateable<HostPoliciesTable>): Promise<void> {
    await this.db.updateTable('host_policies').set(changes).where('host_name', '=', host).execute();
  }

  async quarantine(releaseId: string, host: string, reason: string, at: string): Promise<void> {
    await this.db
      .insertInto('quarantined_releases')
      .values({ release_id: releaseId, host_name: host, reason, at })
      .onConflict((oc) => oc.column('release_id').doNothing())
      .execute();
  }

  async isQuarantined(releaseId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('quarantined_releases')
      .select('release_id')
      .where('release_id', '=', releaseId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async halt(revisionId: string, reason: string, at: string): Promise<boolean> {
    const result = await this.db
      .insertInto('rollout_halts')
      .values({ revision_id: revisionId, reason, at })
      .onConflict((oc) => oc.column('revision_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Lifts a revision's halt; false when it was not halted. */
  async resume(revisionId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('rollout_halts')
      .where('revision_id', '=', revisionId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async quarantineOf(releaseId: string): Promise<{ reason: string; at: string } | undefined> {
    return this.db
      .selectFrom('quarantined_releases')
      .select(['reason', 'at'])
      .where('release_id', '=', releaseId)
      .executeTakeFirst();
  }

  /** Removes what is kept about a host (when it is removed from the registry). */
  async deleteForHost(host: string): Promise<void> {
    await this.db.deleteFrom('host_policies').where('host_name', '=', host).execute();
  }

  async haltOf(revisionId: string): Promise<{ reason: string; at: string } | undefined> {
    return this.db
      .selectFrom('rollout_halts')
      .select(['reason', 'at'])
      .where('revision_id', '=', revisionId)
      .executeTakeFirst();
  }
}
