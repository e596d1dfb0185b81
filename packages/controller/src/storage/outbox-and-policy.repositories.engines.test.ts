import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { NotificationRepository } from './notification.repository.js';
import { PolicyRepository } from './policy.repository.js';

const T0 = '2025-05-01T12:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** The repositories of one test's own database. */
function repositories(db: Db) {
  const outbox = new NotificationRepository(db);
  const notify = async (id: string, seconds: number, receivers: string[]) => {
    await outbox.insert({
      id,
      kind: 'deployment.failed',
      hostName: 'alpha',
      payloadJson: JSON.stringify({ summary: `deployment ${id} failed ✗`, data: { id } }),
      createdAt: at(seconds),
      deliveries: receivers.map((receiver) => ({ id: `${id}-${receiver}`, receiver })),
    });
  };
  return { outbox, notify, policies: new PolicyRepository(db) };
}

for (const engine of testDatabases()) {
  describe(
    `the notification outbox and host policies on ${engine.name}`,
    { concurrency: true },
    () => {
      it('writes a notification with its deliveries, due at once, oldest first', () =>
        engine.withDatabase(async (db) => {
          const { outbox, notify } = repositories(db);
          await notify('n2', 10, ['webhook:0', 'ntfy:0']);
          await notify('n1', 0, ['webhook:0']);
          await notify('n3', 20, []);
          const due = await outbox.due(at(10), 10, []);
          assert.deepEqual(
            due.map((d) => d.id),
            ['n1-webhook:0', 'n2-ntfy:0', 'n2-webhook:0'],
          );
          assert.equal(due[0]?.attempts, 0);
          assert.equal(typeof due[0]?.attempts, 'number');
          assert.deepEqual(JSON.parse(due[0]?.payload_json ?? 'null'), {
            summary: 'deployment n1 failed ✗',
            data: { id: 'n1' },
          });
          assert.equal(due[0]?.kind, 'deployment.failed');
          assert.deepEqual(
            (await outbox.due(at(10), 10, ['n1-webhook:0', 'n2-ntfy:0'])).map((d) => d.id),
            ['n2-webhook:0'],
          );
          assert.deepEqual(
            (await outbox.due(at(5), 10, [])).map((d) => d.id),
            ['n1-webhook:0'],
          );
        }));

      it('records attempts, retries later ones and knows when the next one is due', () =>
        engine.withDatabase(async (db) => {
          const { outbox, notify } = repositories(db);
          assert.equal(await outbox.nextDueAt([]), null);
          await notify('n1', 0, ['webhook:0', 'ntfy:0']);
          await outbox.recordAttempt('n1-webhook:0', {
            status: 'pending',
            attempts: 1,
            nextAttemptAt: at(30),
            lastError: 'http_503',
            deliveredAt: null,
          });
          await outbox.recordAttempt('n1-ntfy:0', {
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: null,
            lastError: null,
            deliveredAt: at(1),
          });
          assert.equal(await outbox.nextDueAt([]), at(30));
          assert.equal(await outbox.nextDueAt(['n1-webhook:0']), null);
          assert.deepEqual(await outbox.due(at(29), 10, []), []);
          assert.deepEqual(
            (await outbox.due(at(30), 10, [])).map((d) => [d.id, d.attempts, d.last_error]),
            [['n1-webhook:0', 1, 'http_503']],
          );
        }));

      it('lists the newest notifications with their deliveries', () =>
        engine.withDatabase(async (db) => {
          const { outbox, notify } = repositories(db);
          await notify('n1', 0, ['webhook:0']);
          await notify('n2', 10, ['webhook:1', 'ntfy:0']);
          await notify('n3', 20, []);
          const recent = await outbox.listRecent(2);
          assert.deepEqual(
            recent.map((r) => [r.notification.id, r.deliveries.map((d) => d.receiver)]),
            [
              ['n3', []],
              ['n2', ['ntfy:0', 'webhook:1']],
            ],
          );
        }));

      it('creates a policy once and never overwrites it by ensuring again', () =>
        engine.withDatabase(async (db) => {
          const { policies } = repositories(db);
          const row = {
            host_name: 'alpha',
            policy: 'manual' as const,
            source: 'default' as const,
            stable_since: null,
            updated_at: T0,
            updated_by: 'system',
          };
          await policies.ensure(row);
          await policies.update('alpha', {
            policy: 'auto',
            source: 'api',
            pinned: 1,
            pin_reason: 'freeze',
          });
          await policies.ensure({ ...row, updated_at: at(60) });
          const stored = await policies.find('alpha');
          assert.equal(stored?.policy, 'auto');
          assert.equal(stored.pinned, 1);
          assert.equal(stored.pin_reason, 'freeze');
          assert.equal(stored.updated_at, T0);
          await policies.ensure({ ...row, host_name: 'beta' });
          assert.deepEqual(
            (await policies.all()).map((p) => [p.host_name, p.pinned]),
            [
              ['alpha', 1],
              ['beta', 0],
            ],
          );
        }));

      it('quarantines a release and halts a revision once, saying whether this call did', () =>
        engine.withDatabase(async (db) => {
          const { policies } = repositories(db);
          await policies.quarantine('r1', 'alpha', 'rolled back', T0);
          await policies.quarantine('r1', 'alpha', 'again', at(1));
          assert.equal(await policies.isQuarantined('r1'), true);
          assert.equal(await policies.isQuarantined('r2'), false);
          assert.equal(await policies.halt('rv1', 'alpha failed', T0), true);
          assert.equal(await policies.halt('rv1', 'beta failed', at(1)), false);
          assert.deepEqual(await policies.haltOf('rv1'), { reason: 'alpha failed', at: T0 });
          assert.equal(await policies.haltOf('rv2'), undefined);
        }));
    },
  );
}
