import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_LINE_LENGTH } from '@flotilla/runtime';
import { readLogLines, splitCompleteLines } from './log-tail.js';

describe('readLogLines', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-tail-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns complete lines only and continues at the offset it gave', async () => {
    const file = join(dir, 'a.log');
    assert.deepEqual(await readLogLines(file, 0, false), { lines: [], offset: 0 });
    await appendFile(file, 'one\ntwo\r\nthr');
    const first = await readLogLines(file, 0, false);
    assert.deepEqual(first, { lines: ['one', 'two'], offset: 9 });
    await appendFile(file, 'ee\nfour');
    const second = await readLogLines(file, first.offset, false);
    assert.deepEqual(second.lines, ['three']);
    assert.deepEqual(await readLogLines(file, second.offset, true), {
      lines: ['four'],
      offset: 19,
    });
  });
});

describe('splitCompleteLines', () => {
  it('never splits a multi-byte character when it must flush a very long partial line', () => {
    const text = 'é'.repeat(40_000); // 80 000 bytes, no newline
    const bytes = Buffer.from(text, 'utf8').subarray(0, 70_001); // ends inside a character
    const chunk = splitCompleteLines(bytes, 0, false);
    assert.equal(chunk.offset, 70_000);
    assert.ok(chunk.lines.every((line) => !line.includes('\uFFFD')));
    assert.ok(chunk.lines.every((line) => line.length <= MAX_LINE_LENGTH));
    assert.equal(chunk.lines.join('').length, 35_000);
  });

  it('keeps empty lines and a partial line for later', () => {
    assert.deepEqual(splitCompleteLines(Buffer.from('a\n\nb'), 10, false), {
      lines: ['a', ''],
      offset: 13,
    });
  });
});
