import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeployLog } from '@flotilla/protocol';
import { ManualClock } from '@flotilla/runtime';
import { DeployLogBatcher } from './log-batcher.js';

function setup(maxLines?: number) {
  const clock = new ManualClock('2030-01-01T00:00:00Z');
  const sent: DeployLog[] = [];
  const batcher = new DeployLogBatcher({
    deploymentId: 'd1',
    send: (message) => sent.push(message),
    clock,
    ...(maxLines === undefined ? {} : { maxLines }),
  });
  return { clock, sent, batcher };
}

describe('DeployLogBatcher', () => {
  it('sends lines together once the interval has passed', () => {
    const { clock, sent, batcher } = setup();
    batcher.add('stdout', 'one');
    clock.advance(50);
    batcher.add('stderr', 'two');
    assert.equal(sent.length, 0);
    clock.advance(50);
    assert.equal(sent.length, 1);
    assert.deepEqual(
      sent[0]?.lines.map((l) => [l.stream, l.line]),
      [
        ['stdout', 'one'],
        ['stderr', 'two'],
      ],
    );
    assert.equal(sent[0]?.lines[0]?.at, '2030-01-01T00:00:00.000Z');
    assert.equal(sent[0]?.deploymentId, 'd1');
  });

  it('sends at once when a batch is full', () => {
    const { sent, batcher } = setup(3);
    ['a', 'b', 'c', 'd'].forEach((line) => batcher.add('stdout', line));
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.lines.length, 3);
  });

  it('flushes on demand and sends nothing when empty', () => {
    const { clock, sent, batcher } = setup();
    batcher.flush();
    assert.equal(sent.length, 0);
    batcher.add('agent', 'done');
    batcher.flush();
    clock.advance(1000);
    assert.equal(sent.length, 1);
  });

  it('truncates lines longer than the protocol allows', () => {
    const { sent, batcher } = setup();
    batcher.add('stdout', 'x'.repeat(20_000));
    batcher.flush();
    assert.equal(sent[0]?.lines[0]?.line.length, 16384);
  });
});
