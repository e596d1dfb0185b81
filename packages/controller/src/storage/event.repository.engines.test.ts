import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/test-databases.js';
import { EventRepository } from './event.repository.js';

const ENTRIES = [
  { at: '2026-03-01T09:59:59.999Z', kind: 'deployment.created', actor: 'pipeline' },
  { at: '2026-03-01T10:00:00.000Z', kind: 'approval.approved', actor: 'Admin' },
  { at: '2026-03-01T11:00:00.000Z', kind: 'host.pinned', actor: 'token 100%_ci' },
  { at: '2026-03-01T12:00:00.000Z', kind: 'policy.changed', actor: 'policy:auto' },
];

for (const engine of testDatabases()) {
  describe(`the audit log's filters (${engine.name})`, { concurrency: true }, () => {
    const kinds = async (query: Parameters<EventRepository['list']>[0]) =>
      engine.withDatabase(async (db) => {
        const events = new EventRepository(db);
        await events.append(ENTRIES);
        return (await events.list(query)).map((e) => e.kind);
      });

    it('finds actors by a part of their name in any case, % and _ taken literally', async () => {
      assert.deepEqual(await kinds({ actor: 'admin', limit: 10 }), ['approval.approved']);
      assert.deepEqual(await kinds({ actor: 'ADMI', limit: 10 }), ['approval.approved']);
      assert.deepEqual(await kinds({ actor: '0%_c', limit: 10 }), ['host.pinned']);
      assert.deepEqual(await kinds({ actor: '_', limit: 10 }), ['host.pinned']);
      assert.deepEqual(await kinds({ actor: 'a%n', limit: 10 }), []);
    });

    it('keeps entries within an inclusive time range', async () => {
      assert.deepEqual(
        await kinds({
          since: '2026-03-01T10:00:00.000Z',
          until: '2026-03-01T11:00:00.000Z',
          limit: 10,
        }),
        ['host.pinned', 'approval.approved'],
      );
      assert.deepEqual(await kinds({ since: '2026-03-01T11:00:00.001Z', limit: 10 }), [
        'policy.changed',
      ]);
      assert.deepEqual(
        await kinds({ until: '2026-03-01T09:59:59.999Z', actor: 'pipe', limit: 10 }),
        ['deployment.created'],
      );
    });
  });
}
