import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueryKey } from '../api/query-keys.js';
import type { Timers } from './invalidation.js';
import { LiveEvents, type EventSourceLike } from './live-events.js';

/** An EventSource the test drives: it opens, sends, fails, as the test says. */
class FakeSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  readonly #listeners = new Map<string, ((event: { data?: unknown }) => void)[]>();
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data?: object): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      listener(data === undefined ? {} : { data: JSON.stringify(data) });
    }
  }
  open(): void {
    this.readyState = 1;
    this.emit('open');
  }
  /** A dropped connection the browser retries by itself (CONNECTING), or a refusal (CLOSED). */
  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.emit('error');
  }
}

class ManualTimers implements Timers {
  time = 0;
  readonly pending: { at: number; run: () => void; id: number }[] = [];
  #next = 1;
  now = () => this.time;
  setTimeout = (run: () => void, ms: number) => {
    const id = this.#next++;
    this.pending.push({ at: this.time + ms, run, id });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    const index = this.pending.findIndex((t) => t.id === handle);
    if (index >= 0) this.pending.splice(index, 1);
  };
  advance(ms: number): void {
    this.time += ms;
    for (;;) {
      const due = this.pending.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.pending.splice(this.pending.indexOf(due), 1);
      due.run();
    }
  }
}

function setup(probeStatus: number | null = 404) {
  const sources: FakeSource[] = [];
  const invalidated: QueryKey[][] = [];
  const timers = new ManualTimers();
  let everything = 0;
  let unauthorized = 0;
  const live = new LiveEvents({
    url: '/api/v1/events',
    invalidate: (keys) => invalidated.push(keys),
    invalidateAll: () => (everything += 1),
    onUnauthorized: () => (unauthorized += 1),
    createSource: () => {
      const source = new FakeSource();
      sources.push(source);
      return source;
    },
    probe: async () => probeStatus,
    timers,
  });
  live.start();
  return {
    live,
    sources,
    invalidated,
    timers,
    everything: () => everything,
    unauthorized: () => unauthorized,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the live-event client', () => {
  it('invalidates what an event names, once per batch', () => {
    const t = setup();
    const source = t.sources[0]!;
    source.open();
    assert.equal(t.live.status, 'live');
    source.emit('ready', { type: 'ready', controllerId: 'c1', at: 'now' });
    source.emit('hosts.changed', { type: 'hosts.changed', names: ['web1'] });
    source.emit('hosts.changed', { type: 'hosts.changed', names: ['web1'] });
    source.emit('hosts.changed', { type: 'nonsense' });
    t.timers.advance(50);
    assert.deepEqual(t.invalidated, [[['hosts'], ['overview'], ['host', 'web1']]]);
    assert.equal(t.everything(), 0, 'the first ready is no restart');
  });

  it('refetches everything after a reconnect and when the controller restarted', () => {
    const t = setup();
    const source = t.sources[0]!;
    source.open();
    source.emit('ready', { type: 'ready', controllerId: 'c1', at: 'now' });
    source.fail(false);
    assert.equal(t.live.status, 'reconnecting');
    source.open();
    assert.equal(t.everything(), 1, 'a reconnect resyncs');
    source.emit('ready', { type: 'ready', controllerId: 'c2', at: 'now' });
    assert.equal(t.everything(), 2, 'another controller resyncs');
    assert.equal(t.sources.length, 1, 'the browser reconnected the same source');
  });

  it('asks again only every 5 minutes when the stream is missing (404): no storm', async () => {
    const t = setup(404);
    t.sources[0]!.fail(true);
    await settle();
    assert.equal(t.live.status, 'unavailable');
    t.timers.advance(60_000);
    assert.equal(t.sources.length, 1, 'no new connection within a minute');
    t.timers.advance(240_000);
    assert.equal(t.sources.length, 2, 'one new try after 5 minutes');
  });

  it('backs off after other refusals and reports a session that ended', async () => {
    const t = setup(401);
    t.sources[0]!.fail(true);
    await settle();
    assert.equal(t.unauthorized(), 1);
    t.timers.advance(2_000);
    assert.equal(t.sources.length, 2, 'first retry after 2 s');
    t.sources[1]!.fail(true);
    await settle();
    t.timers.advance(2_000);
    assert.equal(t.sources.length, 2, 'the second waits longer');
    t.timers.advance(2_000);
    assert.equal(t.sources.length, 3);
  });

  it('hands every event to listeners and stops cleanly', () => {
    const t = setup();
    const seen: string[] = [];
    t.live.onEvent((event) => seen.push(event.type));
    const source = t.sources[0]!;
    source.open();
    source.emit('deployment.log', {
      type: 'deployment.log',
      deploymentId: 'd1',
      seq: 1,
      at: 'now',
      stream: 'agent',
      line: 'activating',
    });
    t.live.stop();
    assert.deepEqual(seen, ['deployment.log']);
    assert.equal(source.closed, true);
  });
});
