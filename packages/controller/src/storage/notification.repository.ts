import type { Selectable } from 'kysely';
import { atomically } from './atomically.js';
import type { Db } from './database.js';
import type { NotificationDeliveriesTable, NotificationsTable } from './schema.js';

export type NotificationRow = Selectable<NotificationsTable>;
export type NotificationDeliveryRow = Selectable<NotificationDeliveriesTable>;

/** A pending delivery with the notification it carries, as the delivery worker needs it. */
export type DueDelivery = NotificationDeliveryRow & {
  kind: string;
  host_name: string | null;
  payload_json: string;
  created_at: string;
};

export interface NewNotification {
  id: string;
  kind: string;
  hostName: string | null;
  payloadJson: string;
  createdAt: string;
  deliveries: readonly { id: string; receiver: string }[];
}

/** What an attempt changes on its delivery. */
export interface DeliveryOutcome {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
}

/** All access to `notifications` and `notification_deliveries` (the outbox). */
export class NotificationRepository {
  constructor(private readonly db: Db) {}

  /** Writes a notification with its deliveries, all due at once, in one transaction. */
  async insert(notification: NewNotification): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx
        .insertInto('notifications')
        .values({
          id: notification.id,
          kind: notification.kind,
          host_name: notification.hostName,
          payload_json: notification.payloadJson,
          created_at: notification.createdAt,
        })
        .execute();
      if (notification.deliveries.length === 0) return;
      await trx
        .insertInto('notification_deliveries')
        .values(
          notification.deliveries.map((d) => ({
            id: d.id,
            notification_id: notification.id,
            receiver: d.receiver,
            status: 'pending' as const,
            attempts: 0,
            next_attempt_at: notification.createdAt,
            last_error: null,
            delivered_at: null,
          })),
        )
        .execute();
    });
  }

  /** Pending deliveries due at `now`, oldest due first, skipping `exclude` (in flight). */
  async due(now: string, limit: number, exclude: readonly string[]): Promise<DueDelivery[]> {
    let query = this.db
      .selectFrom('notification_deliveries as d')
      .innerJoin('notifications as n', 'n.id', 'd.notification_id')
      .selectAll('d')
      .select(['n.kind', 'n.host_name', 'n.payload_json', 'n.created_at'])
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .orderBy('d.next_attempt_at')
      .orderBy('d.id')
      .limit(limit);
    if (exclude.length > 0) query = query.where('d.id', 'not in', exclude);
    return query.execute();
  }

  /** When the next pending delivery outside `exclude` is due; null when none is pending. */
  async nextDueAt(exclude: readonly string[]): Promise<string | null> {
    let query = this.db
      .selectFrom('notification_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('next'))
      .where('status', '=', 'pending');
    if (exclude.length > 0) query = query.where('id', 'not in', exclude);
    const row = await query.executeTakeFirst();
    return row?.next ?? null;
  }

  async recordAttempt(id: string, outcome: DeliveryOutcome): Promise<void> {
    await this.db
      .updateTable('notification_deliveries')
      .set({
        status: outcome.status,
        attempts: outcome.attempts,
        next_attempt_at: outcome.nextAttemptAt,
        last_error: outcome.lastError,
        delivered_at: outcome.deliveredAt,
      })
      .where('id', '=', id)
      .execute();
  }

  /** The newest notifications with their deliveries. */
  async listRecent(
    limit: number,
  ): Promise<{ notification: NotificationRow; deliveries: NotificationDeliveryRow[] }[]> {
    const notifications = await this.db
      .selectFrom('notifications')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    if (notifications.length === 0) return [];
    const deliveries = await this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where(
        'notification_id',
        'in',
        notifications.map((n) => n.id),
      )
      .orderBy('receiver')
      .execute();
    return notifications.map((notification) => ({
      notification,
      deliveries: deliveries.filter((d) => d.notification_id === notification.id),
    }));
  }
}
