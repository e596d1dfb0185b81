import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capLines, MAX_LOG_LINES } from './deployment-log.js';

const line = (text: string) => ({
  at: '2026-01-01T00:00:00.000Z',
  stream: 'stdout' as const,
  line: text,
});

describe('capLines', () => {
  it('keeps everything under the cap', () => {
    assert.deepEqual(capLines(1, [line('a'), line('b')]), [line('a'), line('b')]);
  });

  it('keeps what fits and puts one marker at the cap + 1, inside the reserved numbers', () => {
    const kept = capLines(MAX_LOG_LINES - 1, [line('a'), line('b'), line('c'), line('d')]);
    assert.equal(kept.length, 3);
    assert.deepEqual(kept.slice(0, 2), [line('a'), line('b')]);
    assert.match(kept[2]?.line ?? '', /log truncated/);
  });

  it('writes the marker once: starting at the cap + 1 it is the only line, after that nothing', () => {
    const atMarker = capLines(MAX_LOG_LINES + 1, [line('x'), line('y')]);
    assert.equal(atMarker.length, 1);
    assert.match(atMarker[0]?.line ?? '', /log truncated/);
    assert.deepEqual(capLines(MAX_LOG_LINES + 2, [line('z')]), []);
  });
});
