import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { HostRow } from '../storage/host.repository.js';
import type { NotificationEvent } from './notification.service.js';
import { OfflineWatcher } from './offline.watcher.js';
import { ManualClock } from '@flotilla/runtime';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** Host rows as the repository returns them; only name and last-seen time matter here. */
function hostRows(lastSeen: Record<string, number | null>): HostRow[] {
  return Object.entries(lastSeen).map(
    ([name, at]) =>
      ({ name, last_seen_at: at === null ? null : new Date(at).toISOString() }) as HostRow,
  );
}

// The repository and presence are stood in for by plain objects: the watcher only reads a
// page of rows and asks whether a host is connected.
function setUp(lastSeen: Record<string, number | null>, online: Set<string>) {
  const clock = new ManualClock(T0);
  const raised: NotificationEvent[] = [];
  const watcher = new OfflineWatcher({
    hosts: {
      page: async (limit, cursor) =>
        hostRows(lastSeen)
          .filter((h) => cursor === undefined || h.name > cursor)
          .slice(0, limit),
    },
    presence: { get: (name) => (online.has(name) ? ({} as never) : undefined) },
    notify: async (event) => raised.push(event),
    clock,
    logger: pino({ level: 'silent' }),
    offlineAfterMinutes: 10,
  });
  return { clock, raised, watcher };
}

describe('OfflineWatcher', () => {
  it('reports a host offline past the threshold once per outage', async () => {
    const lastSeen: Record<string, number | null> = { gpc0: T0 };
    const online = new Set<string>();
    const { clock, raised, watcher } = setUp(lastSeen, online);

    clock.ms = T0 + 10 * MINUTE;
    await watcher.check();
    assert.equal(raised.length, 0);

    clock.ms = T0 + 11 * MINUTE;
    await watcher.check();
    await watcher.check();
    assert.deepEqual(raised, [
      {
        kind: 'host.offline',
        host: 'gpc0',
        summary: 'gpc0 has been offline for 11 min (last seen 2026-03-01T10:00:00.000Z)',
        data: { lastSeenAt: '2026-03-01T10:00:00.000Z', offlineMinutes: 11 },
      },
    ]);

    // Back online, then gone again: a new outage is reported again.
    online.add('gpc0');
    await watcher.check();
    online.delete('gpc0');
    lastSeen.gpc0 = T0 + 20 * MINUTE;
    clock.ms = T0 + 31 * MINUTE;
    await watcher.check();
    assert.equal(raised.length, 2);
    assert.equal(raised[1]?.data?.offlineMinutes, 11);
  });

  it('counts from its own start, so a controller restart does not report every host', async () => {
    const { clock, raised, watcher } = setUp({ gpc0: T0 - 3 * 60 * MINUTE }, new Set());
    clock.ms = T0 + 5 * MINUTE;
    await watcher.check();
    assert.equal(raised.length, 0);
    clock.ms = T0 + 11 * MINUTE;
    await watcher.check();
    assert.equal(
      raised[0]?.summary,
      'gpc0 has been offline for 191 min (last seen 2026-03-01T07:00:00.000Z)',
    );
  });

  it('ignores hosts that never connected and hosts that are online', async () => {
    const { clock, raised, watcher } = setUp(
      { fresh: null, live: T0 - 60 * MINUTE },
      new Set(['live']),
    );
    clock.ms = T0 + 60 * MINUTE;
    await watcher.check();
    assert.deepEqual(raised, []);
  });
});
