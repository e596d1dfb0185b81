import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentMessage, DeployResult } from '@flotilla/protocol';
import { Logger } from '@flotilla/runtime';
import { DeploymentOutbox, type MessageSink } from './deployment-outbox.js';

/** A connection that records what it is given and can be taken up and down. */
class FakeSink implements MessageSink {
  isReady = false;
  generation = 0;
  sent: AgentMessage[] = [];
  send(message: AgentMessage): boolean {
    if (!this.isReady) return false;
    this.sent.push(message);
    return true;
  }
  up(): void {
    this.generation++;
    this.isReady = true;
  }
}

const result = (deploymentId: string): DeployResult => ({
  type: 'deploy.result',
  deploymentId,
  outcome: 'succeeded',
  exitCode: 0,
  error: null,
  currentSystem: null,
});

const quiet = new Logger({ level: 'error', output: { write: () => true } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('DeploymentOutbox', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outbox-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a result on disk until acknowledged and sends it, in order, after reconnect', async () => {
    const resultsDir = join(dir, 'a');
    const sink = new FakeSink();
    const outbox = new DeploymentOutbox({ sink, resultsDir, logger: quiet });
    await outbox.load();
    outbox.send({ type: 'deploy.progress', deploymentId: 'd/1', phase: 'activating' });
    await outbox.deliverResult(result('d/1'));
    assert.equal((await readdir(resultsDir)).length, 1);
    assert.equal(outbox.pendingResults, 1);

    sink.up();
    outbox.drain();
    await settle();
    assert.deepEqual(
      sink.sent.map((m) => m.type),
      ['deploy.progress', 'deploy.result'],
    );
    assert.equal((await readdir(resultsDir)).length, 1, 'sent is not yet stored by the controller');
    await outbox.acknowledge('d/1');
    assert.deepEqual(await readdir(resultsDir), []);
    assert.equal(outbox.pendingResults, 0);
  });

  it('sends an unacknowledged result again on the next connection', async () => {
    const sink = new FakeSink();
    const outbox = new DeploymentOutbox({ sink, resultsDir: join(dir, 'resend'), logger: quiet });
    await outbox.load();
    sink.up();
    await outbox.deliverResult(result('d5'));
    sink.isReady = false;
    sink.up();
    outbox.drain();
    assert.deepEqual(
      sink.sent.map((m) => m.type),
      ['deploy.result', 'deploy.result'],
    );
    await outbox.acknowledge('d5');
    sink.up();
    outbox.drain();
    assert.equal(sink.sent.length, 2, 'nothing is resent after the acknowledgement');
  });

  it('loads results left by an earlier run and skips unreadable files', async () => {
    const resultsDir = join(dir, 'b');
    const first = new DeploymentOutbox({ sink: new FakeSink(), resultsDir, logger: quiet });
    await first.load();
    await first.deliverResult(result('d2'));
    await writeFile(join(resultsDir, 'broken.json'), '{');

    const sink = new FakeSink();
    const second = new DeploymentOutbox({ sink, resultsDir, logger: quiet });
    await second.load();
    sink.up();
    second.drain();
    await settle();
    assert.deepEqual(sink.sent, [result('d2')]);
  });

  it('drops the oldest log messages, never results, when too many wait', async () => {
    const sink = new FakeSink();
    const outbox = new DeploymentOutbox({
      sink,
      resultsDir: join(dir, 'c'),
      logger: quiet,
      maxQueuedMessages: 2,
    });
    await outbox.load();
    await outbox.deliverResult(result('d3'));
    for (const phase of ['fetching', 'setting_profile', 'activating'] as const) {
      outbox.send({ type: 'deploy.progress', deploymentId: 'd4', phase });
    }
    sink.up();
    outbox.drain();
    assert.deepEqual(
      sink.sent.map((m) => (m.type === 'deploy.progress' ? m.phase : m.type)),
      ['deploy.result', 'activating'],
    );
  });
});
