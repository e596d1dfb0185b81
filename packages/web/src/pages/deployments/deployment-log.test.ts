import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogLine } from '@flotilla/protocol';
import { EMPTY_LOG, mergeLogLines, resumeAfter, stepsOf } from './deployment-log.js';

const line = (
  seq: number,
  text = `line ${seq}`,
  stream: LogLine['stream'] = 'stdout',
): LogLine => ({
  seq,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  stream,
  line: text,
});

describe('a deployment log merged from pages and live lines', () => {
  it('keeps each sequence number once, in order, whatever arrives first', () => {
    let state = mergeLogLines(EMPTY_LOG, [line(3), line(4)]); // live lines before the page
    assert.equal(state.complete, false);
    assert.equal(resumeAfter(state), 0);
    state = mergeLogLines(state, [line(1), line(2), line(3)]); // the page overlaps
    assert.deepEqual(
      state.lines.map((l) => l.seq),
      [1, 2, 3, 4],
    );
    assert.equal(state.last, 4);
    assert.equal(state.complete, true);
    state = mergeLogLines(state, [line(4), line(5), line(5)]); // a repeated live event
    assert.deepEqual(
      state.lines.map((l) => l.seq),
      [1, 2, 3, 4, 5],
    );
  });

  it('returns the same state when nothing is new (no re-render)', () => {
    const state = mergeLogLines(EMPTY_LOG, [line(1)]);
    assert.equal(mergeLogLines(state, [line(1)]), state);
    assert.equal(mergeLogLines(state, []), state);
  });

  it('says where to fill a hole from', () => {
    const state = mergeLogLines(EMPTY_LOG, [line(1), line(2), line(6)]);
    assert.equal(state.complete, false);
    assert.equal(resumeAfter(state), 2);
    assert.equal(resumeAfter(mergeLogLines(EMPTY_LOG, [line(1), line(2)])), 2);
  });

  it('reads the steps and how long each took from the narrative lines', () => {
    const steps = stepsOf([
      line(1, '[controller] approved by ana', 'agent'),
      line(2, 'output', 'stdout'),
      line(4, 'deploying /nix/store/x (switch)', 'agent'),
    ]);
    assert.deepEqual(
      steps.map((s) => [s.by, s.text, s.tookMs]),
      [
        ['controller', 'approved by ana', 3000],
        ['agent', 'deploying /nix/store/x (switch)', null],
      ],
    );
  });
});
