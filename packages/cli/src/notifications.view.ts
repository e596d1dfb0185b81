import type { Notification, NotificationDelivery, NotificationList } from '@flotilla/protocol';
import { firstLine, table, type TimeFormat } from './format.js';

/** Longest SUMMARY cell and error excerpt; the whole notification is in `--json`. */
const SUMMARY_MAX = 50;
const ERROR_MAX = 60;

function tries(count: number): string {
  return count === 1 ? '1 try' : `${count} tries`;
}

/**
 * How one receiver's delivery went, in words: `delivered 5 m ago`, `retrying: 2 tries
 * failed (HTTP 503); next in 42 s`, `failed after 10 tries: HTTP 500`.
 */
export function deliveryLabel(delivery: NotificationDelivery, time: TimeFormat): string {
  const error = firstLine(delivery.lastError ?? 'no error recorded', ERROR_MAX);
  switch (delivery.status) {
    case 'delivered': {
      const when = delivery.deliveredAt === null ? '' : ` ${time.relative(delivery.deliveredAt)}`;
      const after = delivery.attempts > 1 ? ` (after ${tries(delivery.attempts)})` : '';
      return `delivered${when}${after}`;
    }
    case 'pending': {
      const next =
        delivery.nextAttemptAt === null ? '' : `; next ${time.relative(delivery.nextAttemptAt)}`;
      return delivery.attempts === 0
        ? `pending${next}`
        : `retrying: ${tries(delivery.attempts)} failed (${error})${next}`;
    }
    case 'failed':
      return `failed after ${tries(delivery.attempts)}: ${error}`;
  }
}

/** A notification's rows: the first carries what it is about, one row per receiver. */
function notificationRows(notification: Notification, time: TimeFormat): string[][] {
  const about = [
    time.dateTime(notification.at),
    notification.kind,
    notification.host ?? '-',
    firstLine(time.localize(notification.summary), SUMMARY_MAX),
  ];
  if (notification.deliveries.length === 0) return [[...about, '-', 'no receiver subscribed']];
  return notification.deliveries.map((delivery, index) => [
    ...(index === 0 ? about : about.map(() => '')),
    delivery.receiver,
    deliveryLabel(delivery, time),
  ]);
}

/** Counts per delivery state as a sentence: "3 notifications: 4 delivered, 1 failed". */
export function deliveryCountsLine(list: NotificationList): string {
  const deliveries = list.notifications.flatMap((n) => n.deliveries);
  const counts = (['delivered', 'pending', 'failed'] as const)
    .map((status) => [deliveries.filter((d) => d.status === status).length, status] as const)
    .filter(([count]) => count > 0)
    .map(([count, status]) => `${count} ${status}`);
  const noun = list.notifications.length === 1 ? 'notification' : 'notifications';
  const head = `${list.notifications.length} ${noun}`;
  return counts.length === 0 ? head : `${head}; deliveries: ${counts.join(', ')}`;
}

/** Recent notifications, newest first, with each receiver's delivery state. */
export function renderNotificationTable(list: NotificationList, time: TimeFormat): string {
  if (list.notifications.length === 0) return 'no notifications';
  const rows = list.notifications.flatMap((n) => notificationRows(n, time));
  const headers = ['TIME', 'KIND', 'HOST', 'SUMMARY', 'RECEIVER', 'DELIVERY'];
  return `${table(headers, rows)}\n\n${deliveryCountsLine(list)}`;
}
