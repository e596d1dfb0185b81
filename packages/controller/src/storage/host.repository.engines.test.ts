import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Facts } from '@flotilla/protocol';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { EventRepository } from './event.repository.js';
import { HostRepository } from './host.repository.js';

/** Stored as JSON text; the repository does not look inside, so a partial object will do. */
const facts = {
  hostname: 'alpha',
  kernel: '6.1.0',
  note: 'unicode ✓, quotes " and a NUL \u0000 inside JSON',
} as unknown as Facts;

/** The repositories of one test's own database. */
function repositories(db: Db) {
  const hosts = new HostRepository(db);
  const addHost = async (name: string, mode: 'managed' | 'monitor' = 'managed') => {
    await hosts.insert({
      name,
      mode,
      os: null,
      createdAt: '2025-01-01T00:00:00.000Z',
    });
  };
  return { hosts, events: new EventRepository(db), addHost };
}

for (const engine of testDatabases()) {
  describe(`hosts and events on ${engine.name}`, { concurrency: true }, () => {
    it('finds hosts by name and refuses a second host of the same name', () =>
      engine.withDatabase(async (db) => {
        const { hosts, addHost } = repositories(db);
        await addHost('alpha');
        const row = await hosts.findByName('alpha');
        assert.equal(row?.mode, 'managed');
        assert.equal(row.protocol_version, null);
        assert.equal(await hosts.findByName('nobody'), undefined);
        await assert.rejects(addHost('alpha'), 'the name is the primary key');
      }));

    it('pages hosts by name, bytewise, after a cursor', () =>
      engine.withDatabase(async (db) => {
        const { hosts, addHost } = repositories(db);
        for (const name of ['gamma', 'alpha', 'beta-2', 'beta10', 'Zulu', 'beta1'])
          await addHost(name);
        const order = ['Zulu', 'alpha', 'beta-2', 'beta1', 'beta10', 'gamma'];
        assert.deepEqual(await hosts.allNames(), order);
        const first = await hosts.page(2);
        assert.deepEqual(
          first.map((h) => h.name),
          order.slice(0, 2),
        );
        const next = await hosts.page(3, first.at(-1)?.name);
        assert.deepEqual(
          next.map((h) => h.name),
          order.slice(2, 5),
        );
        assert.deepEqual(
          (await hosts.findByNames(['gamma', 'alpha', 'missing'])).map((h) => h.name),
          ['alpha', 'gamma'],
        );
        assert.deepEqual(await hosts.findByNames([]), []);
      }));

    it('counts hosts as numbers, including those never seen', () =>
      engine.withDatabase(async (db) => {
        const { hosts, addHost } = repositories(db);
        assert.deepEqual(await hosts.countAll(), { total: 0, neverSeen: 0 });
        await addHost('alpha');
        await addHost('beta', 'monitor');
        await addHost('gamma');
        await hosts.applyStateUpdates(
          new Map([['beta', { lastConnectedAt: '2025-01-02T00:00:00Z' }]]),
        );
        const counts = await hosts.countAll();
        assert.deepEqual(counts, { total: 3, neverSeen: 2 });
        assert.equal(typeof counts.total, 'number');
      }));

    it('applies batched session updates: JSON as text, integers as numbers, only the given fields', () =>
      engine.withDatabase(async (db) => {
        const { hosts, addHost } = repositories(db);
        await addHost('alpha');
        await addHost('beta');
        await hosts.applyStateUpdates(
          new Map([
            [
              'alpha',
              {
                agentVersion: '0.1.0',
                protocolVersion: 3,
                os: 'linux',
                lastConnectedAt: '2025-01-02T00:00:00.000Z',
                facts,
                factsAt: '2025-01-02T00:00:01.000Z',
              },
            ],
            ['beta', { lastSeenAt: '2025-01-02T00:00:05.000Z' }],
          ]),
        );
        const alpha = await hosts.findByName('alpha');
        assert.equal(alpha?.protocol_version, 3);
        assert.equal(alpha.os, 'linux');
        assert.equal(alpha.agent_version, '0.1.0');
        assert.deepEqual(JSON.parse(alpha.facts_json ?? 'null'), facts);
        assert.equal(alpha.metrics_json, null);
        const beta = await hosts.findByName('beta');
        assert.equal(beta?.last_seen_at, '2025-01-02T00:00:05.000Z');
        assert.equal(beta.agent_version, null, 'untouched fields stay as they were');
        await hosts.applyStateUpdates(new Map());
      }));

    it('appends events with ids assigned in order, as numbers, and pages them newest first', () =>
      engine.withDatabase(async (db) => {
        const { events } = repositories(db);
        await events.append([
          {
            at: '2025-01-01T00:00:00Z',
            kind: 'host.registered',
            actor: 'admin',
            hostName: 'alpha',
          },
          {
            at: '2025-01-01T00:00:01Z',
            kind: 'deployment.created',
            actor: 'admin',
            hostName: 'alpha',
            deploymentId: 'd1',
            data: { storePath: '/nix/store/x', nested: { ok: true, n: 1.5 } },
          },
          { at: '2025-01-01T00:00:02Z', kind: 'host.registered', actor: 'admin', hostName: 'beta' },
        ]);
        await events.append([]);
        const all = await events.list({ limit: 10 });
        assert.deepEqual(
          all.map((e) => e.kind),
          ['host.registered', 'deployment.created', 'host.registered'],
        );
        for (const e of all)
          assert.equal(typeof e.id, 'number', `event id ${String(e.id)} is a number`);
        const ids = all.map((e) => e.id);
        assert.ok(ids[0]! > ids[1]! && ids[1]! > ids[2]!, 'newest first');
        assert.deepEqual(JSON.parse(all[1]?.data_json ?? 'null'), {
          storePath: '/nix/store/x',
          nested: { ok: true, n: 1.5 },
        });
        assert.equal(all[0]?.data_json, null);
        assert.equal(all[1]?.deployment_id, 'd1');

        const older = await events.list({ limit: 10, before: ids[0]! });
        assert.deepEqual(
          older.map((e) => e.id),
          ids.slice(1),
        );
        assert.deepEqual(
          (await events.list({ limit: 10, host: 'alpha', kind: 'host.registered' })).map(
            (e) => e.id,
          ),
          [ids[2]],
        );
        assert.deepEqual(
          (await events.listForHost('alpha', 1)).map((e) => e.kind),
          ['deployment.created'],
        );
      }));
  });
}
