import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingRunner } from './coalescing-runner.js';

/** A task whose runs finish only when the test lets them. */
function gatedTask() {
  const started: string[] = [];
  const gates: (() => void)[] = [];
  const task = (argument: string) => {
    started.push(argument);
    return new Promise<string>((resolve) =>
      gates.push(() => resolve(`${argument}#${started.length}`)),
    );
  };
  const release = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { task, started, release };
}

describe('CoalescingRunner', () => {
  it('runs once for a lone request', async () => {
    const { task, started, release } = gatedTask();
    const runner = new CoalescingRunner(task);
    const result = runner.run('a');
    await release();
    assert.equal(await result, 'a#1');
    assert.deepEqual(started, ['a']);
  });

  it('queues exactly one more run for any number of requests during a run', async () => {
    const { task, started, release } = gatedTask();
    const runner = new CoalescingRunner(task);
    const first = runner.run('a');
    const joined = [runner.run('b'), runner.run('c'), runner.run('d')];
    assert.equal(joined[0], joined[1]);
    assert.equal(joined[1], joined[2]);
    await release();
    assert.equal(await first, 'a#1');
    assert.deepEqual(started, ['a', 'b']);
    // A request now joins the run in progress' successor, not the running one.
    const later = runner.run('e');
    await release();
    assert.deepEqual(await Promise.all(joined), ['b#2', 'b#2', 'b#2']);
    await release();
    assert.equal(await later, 'e#3');
    await runner.idle();
    assert.deepEqual(started, ['a', 'b', 'e']);
  });

  it('starts fresh after a failed run and lets every caller see the failure', async () => {
    let calls = 0;
    const runner = new CoalescingRunner(async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return calls;
    });
    await assert.rejects(runner.run(undefined), /boom/);
    assert.equal(await runner.run(undefined), 2);
  });
});
