import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ControllerMessage, LiveEvent, Metrics } from '@flotilla/protocol';
import { sql } from 'kysely';
import { pino } from 'pino';
import { EventBus } from '../events/event-bus.js';
import { openDatabase, type Db } from '../storage/database.js';
import { EventRepository } from '../storage/event.repository.js';
import { HostRepository } from '../storage/host.repository.js';
import type { AgentChannel } from './presence.service.js';
import { PresenceService } from './presence.service.js';
import { ManualClock } from '@flotilla/runtime';

class RecordingChannel implements AgentChannel {
  sent: ControllerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  send(message: ControllerMessage): boolean {
    this.sent.push(message);
    return true;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

const metrics: Metrics = {
  uptimeSeconds: 10,
  load: [0.1, 0.2, 0.3],
  memory: { totalBytes: 100, availableBytes: 50 },
  disks: [],
};

/** Rows changed on the one SQLite connection since it was opened. */
async function totalChanges(db: Db): Promise<number> {
  const result = await sql<{ n: number }>`select total_changes() as n`.execute(db);
  return Number(result.rows[0]?.n);
}

describe('PresenceService (real SQLite)', () => {
  let dir: string;
  let db: Db;
  let hosts: HostRepository;
  let clock: ManualClock;
  let presence: PresenceService;
  let live: EventBus;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-presence-'));
    db = (await openDatabase({ url: join(dir, 'test.db') })).db;
    hosts = new HostRepository(db);
    clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    live = new EventBus({ clock, logger: pino({ level: 'silent' }) });
    presence = new PresenceService({
      hosts,
      events: new EventRepository(db),
      live,
      clock,
      logger: pino({ level: 'silent' }),
      heartbeatIntervalSeconds: 5,
      missedHeartbeatsAllowed: 3,
      snapshotIntervalSeconds: 60,
    });
    await hosts.insert({
      name: 'h1',
      mode: 'managed',
      os: null,
      createdAt: clock.now().toISOString(),
    });
  });

  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('persists the connect transition with an event', async () => {
    presence.connected('h1', new RecordingChannel(), {
      version: '0.1.0',
      protocolVersion: 1,
      os: 'linux',
    });
    await presence.flush();
    const row = await hosts.findByName('h1');
    assert.equal(row?.agent_version, '0.1.0');
    assert.equal(row?.last_connected_at, '2026-01-01T00:00:00.000Z');
    const events = await new EventRepository(db).listForHost('h1', 10);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['host.online'],
    );
  });

  it('writes nothing to the database for heartbeats', async () => {
    const before = await totalChanges(db);
    for (let i = 0; i < 500; i++) {
      clock.ms += 1000;
      presence.heartbeat('h1', metrics);
    }
    await presence.flush();
    assert.equal(await totalChanges(db), before, 'no row was written');
    assert.equal(presence.get('h1')?.lastHeartbeatMs, clock.ms, 'the live state moved on');
  });

  it('writes last-seen and metrics in the periodic snapshot', async () => {
    // stop() takes a final snapshot, as the periodic timer would.
    await presence.stop();
    const row = await hosts.findByName('h1');
    assert.equal(row?.last_seen_at, clock.now().toISOString());
    assert.deepEqual(JSON.parse(row?.metrics_json ?? 'null'), metrics);
  });

  it('replaces an older connection of the same host and ignores its late close', async () => {
    const first = new RecordingChannel();
    const second = new RecordingChannel();
    presence.connected('h1', first, { version: '0.1.0', protocolVersion: 1, os: 'linux' });
    presence.connected('h1', second, { version: '0.1.0', protocolVersion: 1, os: 'linux' });
    assert.equal(first.closed?.code, 4009);
    presence.disconnected('h1', first, 'closed');
    assert.ok(presence.get('h1'), 'the newer connection is still online');
    assert.equal(
      presence.send('h1', { type: 'error', error: { code: 'internal_error', message: 't' } }),
      true,
    );
    assert.equal(second.sent.length, 1);
    presence.disconnected('h1', second, 'closed');
    assert.equal(presence.get('h1'), undefined);
    await presence.flush();
    const kinds = (await new EventRepository(db).listForHost('h1', 10)).map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'host.offline').length, 1);
  });

  it('drops a host whose heartbeats stopped', async () => {
    const channel = new RecordingChannel();
    presence.connected('h1', channel, { version: '0.1.0', protocolVersion: 1, os: 'linux' });
    clock.ms += 14_000;
    presence.sweep();
    assert.ok(presence.get('h1'), 'within three intervals the host stays online');
    clock.ms += 2_000;
    presence.sweep();
    assert.equal(presence.get('h1'), undefined);
    assert.equal(channel.closed?.code, 4008);
  });

  it('tells live subscribers about heartbeats at once and about connects once written', async () => {
    await presence.flush();
    const seen: LiveEvent[] = [];
    const { unsubscribe } = live.subscribe((message) => seen.push(message.event));
    presence.connected('h1', new RecordingChannel(), {
      version: '0.1.0',
      protocolVersion: 1,
      os: 'linux',
    });
    clock.advance(1000);
    assert.deepEqual(seen, [], 'nothing before the connect is written');
    await presence.flush();
    clock.advance(1000);
    assert.deepEqual(seen, [{ type: 'hosts.changed', names: ['h1'] }]);
    presence.heartbeat('h1', metrics);
    presence.heartbeat('h1', metrics);
    clock.advance(1000);
    assert.deepEqual(seen.at(-1), { type: 'hosts.changed', names: ['h1'] });
    assert.equal(seen.length, 2, 'two heartbeats in a second are one event');
    unsubscribe();
  });
});
