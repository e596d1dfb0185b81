import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, cappedDelayMs, fullJitterDelayMs } from './backoff.js';

const options = { baseMs: 1000, capMs: 60_000 };
const almostOne = 0.999999;

describe('fullJitterDelayMs', () => {
  it('stays below base·2^attempt and never exceeds the cap', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(options.capMs, options.baseMs * 2 ** attempt);
      assert.equal(
        fullJitterDelayMs(attempt, options, () => 0),
        0,
      );
      const highest = fullJitterDelayMs(attempt, options, () => almostOne);
      assert.ok(highest < ceiling && highest >= ceiling - 1, `attempt ${attempt}: ${highest}`);
    }
  });

  it('is spread by the random value (full jitter)', () => {
    const delays = [0.1, 0.5, 0.9].map((r) => fullJitterDelayMs(10, options, () => r));
    assert.deepEqual(delays, [6000, 30000, 54000]);
  });

  it('stays finite and capped for huge attempt counts', () => {
    assert.equal(
      fullJitterDelayMs(100_000, options, () => 0.5),
      30000,
    );
  });
});

describe('cappedDelayMs', () => {
  it('lies between half the cap and the cap', () => {
    assert.equal(
      cappedDelayMs(options, () => 0),
      30000,
    );
    assert.ok(cappedDelayMs(options, () => almostOne) < 60000);
  });
});

describe('Backoff', () => {
  it('grows with each failure and starts over after reset', () => {
    const backoff = new Backoff(options, () => almostOne);
    const first = [backoff.next(), backoff.next(), backoff.next()];
    assert.deepEqual(first, [999, 1999, 3999]);
    backoff.reset();
    assert.equal(backoff.next(), 999);
  });

  it('uses the capped delay after a refusal', () => {
    const backoff = new Backoff(options, () => 0);
    assert.equal(backoff.capped(), 30000);
  });
});
