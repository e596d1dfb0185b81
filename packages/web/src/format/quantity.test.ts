import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { elapsed, formatBytes, formatDuration, shortSha } from './quantity.js';

describe('durations and sizes', () => {
  it('writes durations at a useful precision', () => {
    assert.equal(formatDuration(null), '—');
    assert.equal(formatDuration(-5), '—');
    assert.equal(formatDuration(450), '450 ms');
    assert.equal(formatDuration(4_250), '4.3 s');
    assert.equal(formatDuration(42_000), '42 s');
    assert.equal(formatDuration(185_000), '3 min 5 s');
    assert.equal(formatDuration(120_000), '2 min');
    assert.equal(formatDuration(7_800_000), '2 h 10 min');
  });

  it('measures from one time to another or to now', () => {
    assert.equal(elapsed(null, null), null);
    assert.equal(elapsed('2026-01-01T00:00:00Z', '2026-01-01T00:00:03Z'), 3000);
    assert.equal(elapsed('2026-01-01T00:00:00Z', null, Date.parse('2026-01-01T00:01:00Z')), 60_000);
  });

  it('writes sizes in powers of 1000 with an optional sign', () => {
    assert.equal(formatBytes(null), '—');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(12_000_000), '12.0 MB');
    assert.equal(formatBytes(-1_500, true), '−1.5 KB');
    assert.equal(formatBytes(2_000, true), '+2.0 KB');
    assert.equal(formatBytes(0, true), '±0 B');
    assert.equal(shortSha('0123456789abcdef'), '0123456789ab');
  });
});
