import * as z from 'zod';

/**
 * Notifications sent to webhooks and ntfy topics, and `GET /api/v1/notifications`, which
 * lists them with how each delivery went.
 */

/** What a notification is about; receivers can subscribe to a subset. */
export const NotificationKind = z.enum([
  'approval.pending',
  'deployment.failed',
  'deployment.rolled_back',
  'host.demoted',
  /** The host has been offline for longer than `notifications.offlineAfterMinutes`. */
  'host.offline',
  'graduation.eligible',
  /** A failure or rollback inside a wave stopped the rest of a revision's rollout. */
  'rollout.halted',
]);
export type NotificationKind = z.infer<typeof NotificationKind>;

/**
 * The JSON body POSTed to webhooks. `id` is the same for every receiver and every retry,
 * so a receiver can drop duplicates (delivery is at least once).
 */
export const NotificationPayload = z.object({
  id: z.string(),
  kind: NotificationKind,
  /** When the notification was raised (ISO-8601). */
  at: z.string(),
  host: z.string().nullable(),
  /** One line for humans. */
  summary: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type NotificationPayload = z.infer<typeof NotificationPayload>;

export const NotificationDeliveryStatus = z.enum(['pending', 'delivered', 'failed']);
export type NotificationDeliveryStatus = z.infer<typeof NotificationDeliveryStatus>;

export const NotificationDelivery = z.object({
  /** A stable receiver name from the config: `webhook:0`, `ntfy:1`. */
  receiver: z.string(),
  status: NotificationDeliveryStatus,
  attempts: z.number().int(),
  /** When the next attempt is due; null once delivered or failed. */
  nextAttemptAt: z.string().nullable(),
  /** Why the last attempt failed (an HTTP status or a network error; never a secret). */
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

export const Notification = NotificationPayload.extend({
  deliveries: z.array(NotificationDelivery),
});
export type Notification = z.infer<typeof Notification>;

export const NotificationList = z.object({ notifications: z.array(Notification) });
export type NotificationList = z.infer<typeof NotificationList>;

export const NotificationListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type NotificationListQuery = z.infer<typeof NotificationListQuery>;
