import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveEvent } from '@flotilla/protocol';
import { ManualClock } from '@flotilla/runtime';
import { pino } from 'pino';
import { Store } from '../storage/store.js';
import { testDatabases } from '../testing/test-databases.js';
import { EventBus, type LiveMessage } from './event-bus.js';

const silent = pino({ level: 'silent' });

function busWithSubscriber() {
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const bus = new EventBus({ clock, logger: silent });
  const messages: LiveMessage[] = [];
  const subscription = bus.subscribe((message) => messages.push(message));
  const events = (): LiveEvent[] => messages.map((m) => m.event);
  return { clock, bus, messages, events, ...subscription };
}

describe('EventBus', () => {
  it('gives each subscriber ready first, and numbers every event in one sequence', () => {
    const { bus, ready, messages } = busWithSubscriber();
    assert.deepEqual(ready.event, {
      type: 'ready',
      controllerId: bus.controllerId,
      at: '2026-03-01T10:00:00.000Z',
    });
    assert.equal(ready.id, 1);
    bus.publish({ type: 'approvals.changed' });
    bus.publish({ type: 'build.changed', id: 'b1', status: 'running' });
    assert.deepEqual(
      messages.map((m) => [m.id, m.event.type, m.json]),
      [
        [2, 'approvals.changed', '{"type":"approvals.changed"}'],
        [3, 'build.changed', '{"type":"build.changed","id":"b1","status":"running"}'],
      ],
    );
    const other = new EventBus({ clock: new ManualClock(), logger: silent });
    assert.notEqual(other.controllerId, bus.controllerId, 'a new controller, a new id');
  });

  it('sends hosts.changed at most once a second, naming every host changed in it', () => {
    const { clock, bus, events } = busWithSubscriber();
    for (const name of ['web2', 'db1', 'web2', 'web1']) {
      bus.publish({ type: 'hosts.changed', names: [name] });
      clock.advance(200);
    }
    assert.deepEqual(events(), [], 'nothing before the second is over');
    clock.advance(200);
    assert.deepEqual(events(), [{ type: 'hosts.changed', names: ['db1', 'web1', 'web2'] }]);
    bus.publish({ type: 'hosts.changed', names: ['db1'] });
    bus.publish({ type: 'approvals.changed' });
    assert.deepEqual(events().at(-1), { type: 'approvals.changed' }, 'others are not held');
    clock.advance(999);
    assert.equal(events().length, 2);
    clock.advance(1);
    assert.deepEqual(events().at(-1), { type: 'hosts.changed', names: ['db1'] });
  });

  it('does nothing while nobody listens, and forgets pending changes when the last one leaves', () => {
    const clock = new ManualClock();
    const bus = new EventBus({ clock, logger: silent });
    bus.publish({ type: 'hosts.changed', names: ['web1'] });
    const first = bus.subscribe(() => undefined);
    bus.publish({ type: 'hosts.changed', names: ['web2'] });
    first.unsubscribe();
    assert.equal(bus.listenerCount, 0);
    const seen: LiveEvent[] = [];
    const second = bus.subscribe((message) => seen.push(message.event));
    clock.advance(5000);
    assert.deepEqual(seen, [], 'neither change reaches a later subscriber');
    second.unsubscribe();
    second.unsubscribe();
    assert.equal(bus.listenerCount, 0);
  });

  it('keeps delivering to others when one subscriber throws', () => {
    const { bus, events } = busWithSubscriber();
    bus.subscribe(() => {
      throw new Error('broken subscriber');
    });
    bus.publish({ type: 'repository.changed' });
    bus.publish({ type: 'drafts.changed' });
    assert.deepEqual(events(), [{ type: 'repository.changed' }, { type: 'drafts.changed' }]);
  });
});

for (const engine of testDatabases()) {
  describe(`EventBus with transactions on ${engine.name}`, { concurrency: true }, () => {
    it('publishes a change made in a transaction only once it committed, never after a rollback', () =>
      engine.withDatabase(async (db) => {
        const store = new Store(db);
        const { bus, events } = busWithSubscriber();
        await store.transaction(async (tx) => {
          bus.publish({ type: 'rollout.changed', id: 'rv1' }, tx);
          await tx.events.append([{ at: 'now', kind: 'test', actor: 'test' }]);
          assert.deepEqual(events(), [], 'not while the transaction is open');
        });
        assert.deepEqual(events(), [{ type: 'rollout.changed', id: 'rv1' }]);

        await assert.rejects(
          store.transaction(async (tx) => {
            bus.publish({ type: 'rollout.changed', id: 'rv2' }, tx);
            throw new Error('rolled back');
          }),
          /rolled back/,
        );
        bus.publish({ type: 'releases.changed', revision: null }, store);
        assert.deepEqual(events(), [
          { type: 'rollout.changed', id: 'rv1' },
          { type: 'releases.changed', revision: null },
        ]);
      }));
  });
}
