import type { Db } from './database.js';

/** The `webhook_deliveries` table: which GitHub deliveries were acted on, for a while. */
export class WebhookDeliveryRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a delivery id; false when it was recorded before (a replay). Atomic: of two
   * concurrent deliveries with one id, exactly one records it.
   */
  async record(id: string, event: string, at: string): Promise<boolean> {
    const result = await this.db
      .insertInto('webhook_deliveries')
      .values({ id, event, received_at: at })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Forgets a delivery whose handling failed, so GitHub's redelivery of it is taken. */
  async forget(id: string): Promise<void> {
    await this.db.deleteFrom('webhook_deliveries').where('id', '=', id).execute();
  }

  /** Removes deliveries received before `before` (ISO time). */
  async prune(before: string): Promise<void> {
    await this.db.deleteFrom('webhook_deliveries').where('received_at', '<', before).execute();
  }
}

/** The `reboot_requests` table: reboots asked of hosts and whether they were answered. */
export class RebootRequestRepository {
  constructor(private readonly db: Db) {}

  async insert(row: { id: string; hostName: string; actor: string; at: string }): Promise<void> {
    await this.db
      .insertInto('reboot_requests')
      .values({
        id: row.id,
        host_name: row.hostName,
        requested_by: row.actor,
        requested_at: row.at,
        answered_at: null,
      })
      .execute();
  }

  /**
   * Marks the host's outstanding request `id`, asked at or after `since`, as answered; false
   * when there is none (never asked of this host, answered already, or too old).
   */
  async answer(id: string, hostName: string, since: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('reboot_requests')
      .set({ answered_at: at })
      .where('id', '=', id)
      .where('host_name', '=', hostName)
      .where('answered_at', 'is', null)
      .where('requested_at', '>=', since)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Removes a request that could not be sent (the host was offline). */
  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('reboot_requests').where('id', '=', id).execute();
  }
}
