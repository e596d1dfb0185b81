import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { PresenceService } from '../hosts/presence.service.js';
import type { HostRepository } from '../storage/host.repository.js';
import type { NotificationEvent } from './notification.service.js';

export interface OfflineWatcherOptions {
  hosts: Pick<HostRepository, 'page'>;
  presence: Pick<PresenceService, 'get'>;
  notify: (event: NotificationEvent) => Promise<unknown>;
  clock: Clock;
  logger: Logger;
  offlineAfterMinutes: number;
  /** How often hosts are checked (milliseconds). */
  checkIntervalMs?: number;
}

const PAGE = 500;

/**
 * Raises `host.offline` once per outage, when a host that has connected before has been
 * offline for longer than `offlineAfterMinutes`.
 *
 * An outage is counted from the host's last-seen time, but never from before the watcher
 * started: after the controller itself was down, agents need a moment to reconnect and
 * must not all be reported at once. Which outages were reported is kept in memory, so a
 * host still offline after a controller restart is reported once more.
 */
export class OfflineWatcher {
  /** Host name → the last-seen time of the outage already reported. */
  private readonly reported = new Map<string, string>();
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly options: OfflineWatcherOptions) {
    this.startedAt = options.clock.now().getTime();
  }

  start(): void {
    this.timer = setInterval(() => {
      // A slow check is not overlapped by the next one.
      this.checking ??= this.check()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'offline check'))
        .finally(() => (this.checking = undefined));
    }, this.options.checkIntervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** Checks every host once (run by the timer; public for tests). */
  async check(): Promise<void> {
    const { hosts, presence, clock, offlineAfterMinutes } = this.options;
    const now = clock.now().getTime();
    const limitMs = offlineAfterMinutes * 60_000;
    let cursor: string | undefined;
    for (;;) {
      const page = await hosts.page(PAGE, cursor);
      for (const host of page) {
        if (presence.get(host.name) !== undefined || host.last_seen_at === null) {
          this.reported.delete(host.name);
          continue;
        }
        const lastSeen = host.last_seen_at;
        if (this.reported.get(host.name) === lastSeen) continue;
        const since = Math.max(Date.parse(lastSeen), this.startedAt);
        if (now - since <= limitMs) continue;
        this.reported.set(host.name, lastSeen);
        const minutes = Math.floor((now - Date.parse(lastSeen)) / 60_000);
        await this.options.notify({
          kind: 'host.offline',
          host: host.name,
          summary: `${host.name} has been offline for ${minutes} min (last seen ${lastSeen})`,
          data: { lastSeenAt: lastSeen, offlineMinutes: minutes },
        });
      }
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) return;
      cursor = last.name;
    }
  }
}
