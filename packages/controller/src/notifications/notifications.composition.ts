import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { PresenceService } from '../hosts/presence.service.js';
import type { Db } from '../storage/database.js';
import type { HostRepository } from '../storage/host.repository.js';
import { NotificationRepository } from '../storage/notification.repository.js';
import { NotificationDeliveryWorker } from './delivery.worker.js';
import type { Receiver } from './notifications.config.js';
import { NotificationService } from './notification.service.js';
import { OfflineWatcher } from './offline.watcher.js';

export interface NotificationsDeps {
  db: Db;
  /** From `loadNotificationSecrets`. */
  receivers: readonly Receiver[];
  offlineAfterMinutes: number;
  hosts: Pick<HostRepository, 'page'>;
  presence: Pick<PresenceService, 'get'>;
  clock: Clock;
  logger: Logger;
}

/** Notifications wired: raise and list through `service`; start and stop the other two. */
export interface Notifications {
  service: NotificationService;
  /** Sends the outbox in the background. */
  worker: NotificationDeliveryWorker;
  /** Raises `host.offline`. */
  offline: OfflineWatcher;
}

export function createNotifications(deps: NotificationsDeps): Notifications {
  const { db, receivers, clock } = deps;
  const logger = deps.logger.child({ component: 'notifications' });
  const repository = new NotificationRepository(db);
  const worker = new NotificationDeliveryWorker({ repository, receivers, clock, logger });
  const service = new NotificationService({
    repository,
    receivers,
    clock,
    logger,
    onQueued: () => worker.wake(),
  });
  const offline = new OfflineWatcher({
    hosts: deps.hosts,
    presence: deps.presence,
    notify: (event) => service.notify(event),
    clock,
    logger,
    offlineAfterMinutes: deps.offlineAfterMinutes,
  });
  return { service, worker, offline };
}
