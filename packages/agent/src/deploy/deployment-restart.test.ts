import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HealthCheck } from '@flotilla/protocol';
import { deployRequest, Harness, waitFor } from './executor-harness.js';
import { NEW, OLD } from './test-stand-ins.js';

/**
 * The agent dies (is stopped) in each phase and a new executor takes over from the journal,
 * as a restarted agent process would. Activations outlive the agent in the stand-in too.
 */
describe('DeploymentExecutor after a restart', () => {
  let root = '';
  let count = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-restart-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const harness = (healthChecks: HealthCheck[] = []) =>
    new Harness(join(root, String(++count)), 'managed', healthChecks);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('follows an activation still running instead of starting another', async () => {
    const t = harness();
    t.activator.hold = true;
    void t.executor.handle(deployRequest());
    await waitFor(() => t.activator.started.length === 1, 'the activation to start');
    await t.restart();
    assert.equal(t.executor.activeDeploymentId, 'd1', 'the hello names the deployment');
    t.activator.hold = false;
    t.activator.complete();
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    t.executor.confirm('d1');
    await t.executor.idle();
    assert.deepEqual(t.activator.started, ['NEW test', 'NEW boot']);
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    const output = t.reporter.lines().filter((line) => line.startsWith('activating '));
    assert.deepEqual(
      output,
      [`activating ${NEW} (test)`, `activating ${NEW} (boot)`],
      'no line twice',
    );
  });

  it('carries on from an activation that ended while the agent was down', async () => {
    const t = harness();
    t.activator.hold = true;
    t.activator.behaviour = (path) => (path === NEW ? 2 : 0);
    void t.executor.handle(deployRequest());
    await waitFor(() => t.activator.started.length === 1, 'the activation to start');
    await t.executor.stop();
    t.activator.hold = false;
    t.activator.complete();
    await t.restart();
    await t.executor.idle();
    assert.equal(t.reporter.results[0]?.outcome, 'rolled_back');
    assert.equal(t.reporter.results[0]?.rollbackReason, 'switch-to-configuration test exited 2');
    assert.equal(t.host.current, OLD);
  });

  it('rolls back at once when the confirm deadline passed while the agent was down', async () => {
    const t = harness();
    void t.executor.handle(deployRequest());
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    await t.executor.stop();
    t.clock.advance(31_000);
    await t.restart();
    await t.executor.idle();
    assert.equal(t.reporter.results[0]?.outcome, 'rolled_back');
    assert.equal(
      t.reporter.results[0]?.rollbackReason,
      'no confirmation from the controller within 30 s',
    );
    assert.equal(t.host.current, OLD);
  });

  it('rolls back when the host came back on the previous system while confirming (a reboot)', async () => {
    const t = harness();
    void t.executor.handle(deployRequest());
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    await t.executor.stop();
    t.host.current = OLD; // rebooted: the boot entry still names the previous system
    await t.restart();
    await t.executor.idle();
    assert.equal(t.reporter.results[0]?.outcome, 'rolled_back');
    assert.equal(
      t.reporter.results[0]?.rollbackReason,
      `the host no longer runs ${NEW} (it runs ${OLD}; rebooted?)`,
    );
    assert.equal(t.host.profile, OLD, 'never made the boot default');
  });

  it('asks again while confirming, keeping the deadline and the health results', async () => {
    const t = harness([{ kind: 'command', argv: ['true'], timeoutSeconds: 1 }]);
    void t.executor.handle(deployRequest());
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    t.clock.advance(20_000);
    await t.restart();
    await waitFor(() => t.reporter.confirmRequests.length === 2, 'the confirm request again');
    assert.deepEqual(t.reporter.confirmRequests[1], t.reporter.confirmRequests[0]);
    assert.equal(t.health.runs, 1, 'health checks are not run again');
    t.clock.advance(9_000);
    await settle();
    assert.equal(t.reporter.results.length, 0);
    t.clock.advance(1_000);
    await t.executor.idle();
    assert.equal(t.reporter.results[0]?.outcome, 'rolled_back', 'the deadline was not extended');
  });

  it('commits after a confirmation that arrives once restarted', async () => {
    const t = harness();
    void t.executor.handle(deployRequest());
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    await t.restart();
    t.executor.confirm('d1');
    await t.executor.idle();
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    assert.equal(t.host.profile, NEW);
  });

  it('finishes an interrupted commit, setting the profile once', async () => {
    const t = harness();
    void t.executor.handle(deployRequest());
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    t.activator.hold = true;
    t.executor.confirm('d1');
    await waitFor(() => t.activator.started.length === 2, 'the commit activation');
    await t.restart();
    assert.equal(await t.journalPhase(), 'committing');
    t.activator.hold = false;
    t.activator.complete();
    await t.executor.idle();
    assert.deepEqual(t.store.calls, [`set ${NEW}`]);
    assert.deepEqual(t.activator.started, ['NEW test', 'NEW boot']);
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
  });

  it('finishes an interrupted rollback', async () => {
    const t = harness();
    t.activator.behaviour = (path) => (path === NEW ? 4 : 0);
    t.activator.hold = true;
    void t.executor.handle(deployRequest());
    await waitFor(() => t.activator.started.length === 1, 'the activation');
    t.activator.complete();
    await waitFor(() => t.activator.started.length === 2, 'the rollback activation');
    await t.restart();
    assert.equal(await t.journalPhase(), 'rolling_back');
    t.activator.hold = false;
    t.activator.complete();
    await t.executor.idle();
    assert.deepEqual(t.activator.started, ['NEW test', 'OLD test']);
    assert.equal(t.reporter.results[0]?.outcome, 'rolled_back');
    assert.equal(t.reporter.results[0]?.rollbackReason, 'switch-to-configuration test exited 4');
  });

  it('only does the bookkeeping when the result was stored before the restart', async () => {
    const t = harness();
    void t.executor.handle(deployRequest());
    await waitFor(() => t.reporter.confirmRequests.length === 1, 'the confirm request');
    t.executor.confirm('d1');
    await t.executor.idle();
    // As if the agent died between storing the result and marking the journal finished.
    const loaded = await t.journal.load();
    assert.equal(loaded.kind, 'loaded');
    if (loaded.kind !== 'loaded') return;
    await t.journal.save({ ...loaded.journal, phase: 'committing' });
    await t.restart();
    await t.executor.idle();
    assert.equal(await t.journalPhase(), 'finished');
    assert.equal(t.reporter.results.length, 1);
    assert.deepEqual(t.activator.started, ['NEW test', 'NEW boot']);
    assert.equal(t.executor.activeDeploymentId, null);
  });

  it('remembers a finished deployment: no journal work, repeats ignored, new ones run', async () => {
    const t = harness();
    await t.executor.handle(deployRequest({ action: 'boot' }));
    await t.restart();
    assert.equal(t.executor.activeDeploymentId, null);
    await t.executor.handle(deployRequest({ action: 'boot' }));
    assert.equal(t.reporter.results.length, 1);
    await t.executor.handle(deployRequest({ deploymentId: 'd2', action: 'boot', storePath: OLD }));
    assert.equal(t.reporter.results[1]?.outcome, 'succeeded');
  });
});
