import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLoadavg, parseMeminfo, parseUptime } from './proc-files.js';

describe('parseMeminfo', () => {
  it('reads MemTotal and MemAvailable in bytes', () => {
    const text = [
      'MemTotal:       16316412 kB',
      'MemFree:         1022708 kB',
      'MemAvailable:    9876544 kB',
      'Buffers:          511200 kB',
      'HugePages_Total:       0',
      '',
    ].join('\n');
    assert.deepEqual(parseMeminfo(text), {
      totalBytes: 16316412 * 1024,
      availableBytes: 9876544 * 1024,
    });
  });

  it('estimates available memory on kernels without MemAvailable', () => {
    const text = 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n';
    assert.deepEqual(parseMeminfo(text), { totalBytes: 1024000, availableBytes: 420 * 1024 });
  });

  it('returns null without MemTotal', () => {
    assert.equal(parseMeminfo('MemFree: 100 kB\n'), null);
    assert.equal(parseMeminfo(''), null);
  });
});

describe('parseLoadavg', () => {
  it('reads the three load averages', () => {
    assert.deepEqual(parseLoadavg('0.52 0.58 0.59 1/389 12345\n'), [0.52, 0.58, 0.59]);
  });

  it('returns null for truncated or garbled text', () => {
    assert.equal(parseLoadavg('0.52 0.58'), null);
    assert.equal(parseLoadavg('a b c 1/2 3'), null);
    assert.equal(parseLoadavg(''), null);
  });
});

describe('parseUptime', () => {
  it('reads seconds since boot, ignoring idle time', () => {
    assert.equal(parseUptime('350735.47 234388.90\n'), 350735.47);
  });

  it('returns null for text that is not a number', () => {
    assert.equal(parseUptime(''), null);
    assert.equal(parseUptime('soon'), null);
    assert.equal(parseUptime('-3 1'), null);
  });
});
