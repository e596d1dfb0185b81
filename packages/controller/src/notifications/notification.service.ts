import {
  NotificationKind,
  NotificationDeliveryStatus,
  type Notification,
  type NotificationList,
  type NotificationPayload,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type {
  NewNotification,
  NotificationDeliveryRow,
  NotificationRepository,
  NotificationRow,
} from '../storage/notification.repository.js';
import type { Store } from '../storage/store.js';
import { newId } from '../support/tokens.js';
import { receiverWants, type Receiver } from './notifications.config.js';

/** Something worth telling people about, as the policy engine raises it. */
export interface NotificationEvent {
  kind: NotificationKind;
  host?: string | null;
  /** One line for humans, e.g. `deployment d0m3… on gpc0 failed: activation_failed`. */
  summary: string;
  /** Details for machines (ids, statuses); JSON-serialisable. */
  data?: Record<string, unknown>;
}

export interface NotificationServiceOptions {
  repository: NotificationRepository;
  /** Only names and event filters are used here; the worker holds the secrets' use. */
  receivers: readonly Pick<Receiver, 'name' | 'events'>[];
  clock: Clock;
  logger: Logger;
  /** Called after a notification is queued, to send it without waiting for a timer. */
  onQueued?: () => void;
}

/**
 * Writes notifications into the outbox as part of the caller's transaction: a deployment's
 * status move and the notification about it are committed together, or neither is.
 */
export interface Notifier {
  /**
   * Writes the outbox rows of `event` with `tx` (the caller's transaction); the sender is
   * woken once it has committed.
   */
  queue(tx: Store, event: NotificationEvent): Promise<void>;
}

/**
 * Raises notifications into the outbox and lists them. Raising only writes rows: no
 * network call ever happens in the caller's path, so a slow or dead receiver cannot slow
 * a deployment down. The delivery worker sends them.
 */
export class NotificationService implements Notifier {
  constructor(private readonly options: NotificationServiceOptions) {}

  async queue(tx: Store, event: NotificationEvent): Promise<void> {
    // Checked here too: a kind cast in from a string must not reach receivers or the API.
    if (!NotificationKind.safeParse(event.kind).success) {
      throw new Error(`unknown notification kind ${String(event.kind)}`);
    }
    await tx.notifications.insert(this.rowsOf(event));
    tx.afterCommit(() => this.options.onQueued?.());
  }

  private rowsOf(event: NotificationEvent): NewNotification {
    const now = this.options.clock.now();
    return {
      id: newId('n', now),
      kind: event.kind,
      hostName: event.host ?? null,
      payloadJson: JSON.stringify({ summary: event.summary, data: event.data ?? {} }),
      createdAt: now.toISOString(),
      deliveries: this.options.receivers
        .filter((receiver) => receiverWants(receiver, event.kind))
        .map((receiver) => ({ id: newId('nd', now), receiver: receiver.name })),
    };
  }

  /**
   * Queues a notification for every receiver subscribed to its kind and returns its id.
   * Never rejects: a notification that cannot be recorded is logged and dropped (null),
   * because it must not fail the operation it reports on.
   */
  async notify(event: NotificationEvent): Promise<string | null> {
    const { repository, logger } = this.options;
    if (!NotificationKind.safeParse(event.kind).success) {
      logger.error({ kind: event.kind, host: event.host }, 'unknown notification kind dropped');
      return null;
    }
    const rows = this.rowsOf(event);
    const id = rows.id;
    try {
      await repository.insert(rows);
    } catch (error) {
      logger.error({ err: error, kind: event.kind, host: event.host }, 'notification not recorded');
      return null;
    }
    this.options.onQueued?.();
    return id;
  }

  /** The newest notifications with how each delivery went (`GET /api/v1/notifications`). */
  async list(limit: number): Promise<NotificationList> {
    const rows = await this.options.repository.listRecent(limit);
    return {
      notifications: rows.map(({ notification, deliveries }) =>
        toNotification(notification, deliveries),
      ),
    };
  }
}

/** The webhook body for a stored notification (the same for every receiver and retry). */
export function toPayload(
  row: Pick<NotificationRow, 'id' | 'kind' | 'host_name' | 'payload_json' | 'created_at'>,
): NotificationPayload {
  const stored = JSON.parse(row.payload_json) as { summary?: unknown; data?: unknown };
  return {
    id: row.id,
    kind: NotificationKind.parse(row.kind),
    at: row.created_at,
    host: row.host_name,
    summary: typeof stored.summary === 'string' ? stored.summary : '',
    data:
      typeof stored.data === 'object' && stored.data !== null
        ? (stored.data as Record<string, unknown>)
        : {},
  };
}

function toNotification(
  row: NotificationRow,
  deliveries: readonly NotificationDeliveryRow[],
): Notification {
  return {
    ...toPayload(row),
    deliveries: deliveries.map((d) => ({
      receiver: d.receiver,
      status: NotificationDeliveryStatus.parse(d.status),
      attempts: d.attempts,
      nextAttemptAt: d.next_attempt_at,
      lastError: d.last_error,
      deliveredAt: d.delivered_at,
    })),
  };
}
