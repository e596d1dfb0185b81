import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueryKey } from '../api/query-keys.js';
import { InvalidationCoalescer, keysFor, type Timers } from './invalidation.js';

/** Timers on a clock the test moves by hand. */
class ManualTimers implements Timers {
  time = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; run: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(run: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, run });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].run();
    }
    this.time = until;
  }
}

function coalescer() {
  const timers = new ManualTimers();
  const flushed: QueryKey[][] = [];
  const c = new InvalidationCoalescer((keys) => flushed.push(keys), timers);
  return { timers, flushed, c };
}

describe('invalidations from live events', () => {
  it('names the queries each event changes', () => {
    assert.deepEqual(keysFor({ type: 'hosts.changed', names: ['a', 'b'] }), [
      ['hosts'],
      ['overview'],
      ['host', 'a'],
      ['host', 'b'],
    ]);
    assert.deepEqual(
      keysFor({
        type: 'deployment.log',
        deploymentId: 'd',
        seq: 1,
        at: '',
        stream: 'agent',
        line: 'x',
      }),
      [],
    );
    // A draft's change refreshes the drafts list and every open draft (keys are prefixes).
    assert.deepEqual(keysFor({ type: 'drafts.changed' }), [['drafts']]);
    assert.ok(keysFor({ type: 'repository.changed' }).some((k) => k.join('/') === 'editor/head'));
  });

  it('flushes a burst of events as one batch with each key once', () => {
    const { timers, flushed, c } = coalescer();
    for (let i = 0; i < 500; i += 1) c.add([['hosts'], ['host', `h${i % 3}`]]);
    assert.equal(flushed.length, 0, 'nothing before the batch window ends');
    timers.advance(50);
    assert.equal(flushed.length, 1);
    assert.deepEqual(flushed[0], [['hosts'], ['host', 'h0'], ['host', 'h1'], ['host', 'h2']]);
  });

  it('refetches a key at most once a second, and never drops the last change', () => {
    const { timers, flushed, c } = coalescer();
    c.add([['hosts']]);
    timers.advance(50);
    assert.equal(flushed.length, 1);
    c.add([['hosts']]);
    timers.advance(500);
    assert.equal(flushed.length, 1, 'within the second: waits');
    c.add([['hosts']]);
    timers.advance(499);
    assert.equal(flushed.length, 1);
    timers.advance(1);
    assert.equal(flushed.length, 2, 'one refetch for both changes once the second is over');
    timers.advance(5000);
    assert.equal(flushed.length, 2);
  });

  it('drops what is pending when cleared (everything is refetched instead)', () => {
    const { timers, flushed, c } = coalescer();
    c.add([['hosts']]);
    c.clear();
    timers.advance(2000);
    assert.deepEqual(flushed, []);
  });
});
