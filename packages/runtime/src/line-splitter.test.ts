import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from './line-splitter.js';

function split(chunks: (string | Buffer)[], maxLength?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLength);
  chunks.forEach((chunk) => splitter.push(chunk));
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('joins lines split across chunks and drops carriage returns', () => {
    assert.deepEqual(split(['one\r\ntw', 'o\n', '\nthree']), ['one', 'two', '', 'three']);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const bytes = Buffer.from('héllo\n');
    assert.deepEqual(split([bytes.subarray(0, 2), bytes.subarray(2)]), ['héllo']);
  });

  it('cuts over-long lines into pieces', () => {
    assert.deepEqual(split(['abcdefg\n'], 3), ['abc', 'def', 'g']);
    assert.deepEqual(split(['abcd', 'efg'], 3), ['abc', 'def', 'g']);
  });
});
