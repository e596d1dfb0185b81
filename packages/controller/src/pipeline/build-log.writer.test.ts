import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildRepository } from '../storage/build.repository.js';
import { ManualClock } from '@flotilla/runtime';
import { BuildLogWriter, errorSummary } from './build-log.writer.js';

type Appended = { firstSeq: number; lines: { line: string }[]; bytes: number; truncated: boolean };

/** Records what would be stored; the writer only calls appendLog. */
function recorder(): { repo: BuildRepository; appended: Appended[] } {
  const appended: Appended[] = [];
  const repo = {
    appendLog: async (
      _id: string,
      firstSeq: number,
      lines: { line: string }[],
      bytes: number,
      truncated: boolean,
    ) => {
      appended.push({ firstSeq, lines, bytes, truncated });
    },
  } as unknown as BuildRepository;
  return { repo, appended };
}

const clock = new ManualClock('2026-01-01T00:00:00Z');

describe('BuildLogWriter', () => {
  it('numbers lines on from where the stored log ended and batches them', async () => {
    const { repo, appended } = recorder();
    const seen: number[] = [];
    const writer = new BuildLogWriter({
      buildId: 'b1',
      builds: repo,
      clock,
      limitBytes: 1000,
      startSeq: 5,
      startBytes: 0,
      truncated: false,
      listeners: () => [(line) => seen.push(line.seq)],
    });
    writer.write('one');
    writer.write('two');
    assert.deepEqual(
      writer.unstored().map((l) => l.seq),
      [5, 6],
    );
    await writer.flush();
    assert.deepEqual(appended, [
      {
        firstSeq: 5,
        lines: [
          { at: '2026-01-01T00:00:00.000Z', line: 'one' },
          { at: '2026-01-01T00:00:00.000Z', line: 'two' },
        ],
        bytes: 8,
        truncated: false,
      },
    ]);
    assert.deepEqual(seen, [5, 6]);
    assert.deepEqual(writer.unstored(), []);
  });

  it('keeps one visible marker once the byte limit is reached and drops the rest', async () => {
    const { repo, appended } = recorder();
    const writer = new BuildLogWriter({
      buildId: 'b1',
      builds: repo,
      clock,
      limitBytes: 10,
      startSeq: 1,
      startBytes: 0,
      truncated: false,
      listeners: () => [],
    });
    for (const line of ['12345', '67890', 'abcde', 'fghij']) writer.write(line);
    await writer.flush();
    const lines = appended.flatMap((a) => a.lines.map((l) => l.line));
    assert.equal(lines.length, 2);
    assert.equal(lines[0], '12345');
    assert.match(lines[1] ?? '', /^\[log truncated/);
    assert.equal(appended.at(-1)?.truncated, true);
  });
});

describe('errorSummary', () => {
  it('starts at the first error line', () => {
    assert.equal(
      errorSummary('building x\nerror: builder failed\n  exit 1'),
      'error: builder failed\n  exit 1',
    );
    assert.equal(errorSummary('all good'), null);
  });
});
