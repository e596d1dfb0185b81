import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HealthCheck } from '@flotilla/protocol';
import { deployRequest, Harness, waitFor } from './executor-harness.js';
import { NEW, OLD } from './test-stand-ins.js';

describe('DeploymentExecutor', () => {
  let root = '';
  let count = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-executor-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const harness = (mode: 'managed' | 'monitor' = 'managed', healthChecks: HealthCheck[] = []) =>
    new Harness(join(root, String(++count)), mode, healthChecks);

  /** Runs a switch up to the confirm request; returns the pending flow (wrapped, or await would wait for it). */
  async function untilConfirming(
    t: Harness,
    request = deployRequest(),
  ): Promise<{ flow: Promise<void> }> {
    const flow = t.executor.handle(request);
    await waitFor(() => t.reporter.confirmRequests.length > 0, 'the confirm request');
    return { flow };
  }

  it('switches test-first, asks for confirmation, then commits profile and boot entry', async () => {
    const t = harness();
    const { flow } = await untilConfirming(t);
    assert.equal(t.host.current, NEW, 'the new system runs while confirming');
    assert.equal(t.host.profile, OLD, 'the profile is untouched until confirmed');
    assert.equal(await t.journalPhase(), 'confirming');
    assert.deepEqual(t.reporter.confirmRequests, [
      { type: 'deploy.confirm_request', deploymentId: 'd1', health: [] },
    ]);
    assert.deepEqual(
      t.store.roots,
      new Map([
        ['/state/gcroots/pending', NEW],
        ['/state/gcroots/pending-2', OLD],
      ]),
    );
    assert.deepEqual(t.store.pins, [[NEW, OLD]], 'both pinned by one nix-store');
    t.executor.confirm('d1');
    await flow;
    assert.deepEqual(t.reporter.phases(), ['fetching', 'activating', 'confirming', 'committing']);
    assert.deepEqual(t.activator.started, ['NEW test', 'NEW boot']);
    assert.deepEqual(t.store.calls, [`set ${NEW}`]);
    assert.deepEqual(t.store.locks, [{ released: true }], 'locked while confirming, then set');
    assert.deepEqual(t.reporter.results, [
      {
        type: 'deploy.result',
        deploymentId: 'd1',
        outcome: 'succeeded',
        exitCode: 0,
        error: null,
        currentSystem: NEW,
        previousSystem: OLD,
        rollbackReason: null,
        rebootRequired: false,
      },
    ]);
    assert.equal(t.host.profile, NEW);
    assert.equal(await t.journalPhase(), 'finished');
    assert.equal(t.store.roots.size, 0, 'the GC roots are released');
    assert.deepEqual(t.activator.discarded, ['d1']);
    assert.equal(t.executor.activeDeploymentId, null);
    assert.equal(t.finished, 1);
    assert.ok(
      t.reporter.lines().includes(`activating ${NEW} (test)`),
      'activation output is streamed',
    );
  });

  for (const code of [2, 4]) {
    it(`rolls back to the exact previous system when the activation exits ${code}`, async () => {
      const t = harness();
      t.activator.behaviour = (path) => (path === NEW ? code : 0);
      await t.executor.handle(deployRequest());
      assert.deepEqual(t.activator.started, ['NEW test', 'OLD test']);
      assert.deepEqual(t.store.calls, [], 'the profile is never touched');
      const result = t.reporter.results[0];
      assert.equal(result?.outcome, 'rolled_back');
      assert.equal(result?.rollbackReason, `switch-to-configuration test exited ${code}`);
      assert.equal(result?.error?.code, 'activation_failed');
      assert.equal(result?.exitCode, code);
      assert.equal(result?.previousSystem, OLD);
      assert.equal(result?.currentSystem, OLD);
      assert.equal(t.host.current, OLD);
      assert.deepEqual(t.reporter.phases(), ['fetching', 'activating', 'rolling_back']);
      assert.equal(t.reporter.confirmRequests.length, 0);
    });
  }

  it('makes a switch that exits 100 permanent without confirmation and says a reboot is required', async () => {
    const t = harness();
    t.activator.behaviour = (path, action) => (path === NEW && action === 'test' ? 100 : 0);
    await t.executor.handle(deployRequest());
    assert.deepEqual(t.activator.started, ['NEW test', 'NEW boot']);
    assert.equal(t.host.profile, NEW);
    assert.equal(t.host.current, OLD, 'nothing was activated');
    const result = t.reporter.results[0];
    assert.equal(result?.outcome, 'succeeded');
    assert.equal(result?.rebootRequired, true);
    assert.equal(result?.exitCode, 100);
    assert.equal(t.reporter.confirmRequests.length, 0);
  });

  it("rolls back when a health check of the agent's config fails, without asking for confirmation", async () => {
    const t = harness('managed', [
      { kind: 'command', argv: ['true'], timeoutSeconds: 5 },
      { kind: 'http', url: 'http://127.0.0.1:8080/health', timeoutSeconds: 5 },
    ]);
    t.health.failing.set('http http://127.0.0.1:8080/health', 'HTTP 503 Service Unavailable');
    await t.executor.handle(deployRequest());
    const result = t.reporter.results[0];
    assert.equal(result?.outcome, 'rolled_back');
    assert.equal(
      result?.rollbackReason,
      'health check http http://127.0.0.1:8080/health failed: HTTP 503 Service Unavailable',
    );
    assert.equal(result?.error?.code, 'verification_failed');
    assert.equal(t.host.current, OLD);
    assert.equal(t.reporter.confirmRequests.length, 0);
  });

  it('counts units that failed only after activating as a failed health check', async () => {
    const t = harness();
    t.host.failed = ['old-broken.service'];
    t.activator.behaviour = (path) => {
      if (path === NEW) t.host.failed = ['old-broken.service', 'nginx.service'];
      return 0;
    };
    await t.executor.handle(deployRequest());
    assert.equal(
      t.reporter.results[0]?.rollbackReason,
      'health check systemd units failed: failed since activating: nginx.service',
    );
  });

  it('rolls back by itself when no confirmation arrives before the deadline', async () => {
    const t = harness();
    const { flow } = await untilConfirming(t);
    t.clock.advance(29_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(t.reporter.results.length, 0, 'still waiting before the deadline');
    t.clock.advance(1_000);
    await flow;
    const result = t.reporter.results[0];
    assert.equal(result?.outcome, 'rolled_back');
    assert.equal(result?.rollbackReason, 'no confirmation from the controller within 30 s');
    assert.equal(t.host.current, OLD);
    assert.equal(t.host.profile, OLD);
    assert.deepEqual(t.store.locks, [{ released: true }], 'the profile lock taken ahead is let go');
  });

  it('asks again for confirmation after every reconnect', async () => {
    const t = harness();
    t.reporter.connected = false;
    const flow = t.executor.handle(deployRequest());
    // The phase is reported before the journal is written and the gate waits: wait for the
    // request itself, refused while offline.
    await waitFor(() => t.reporter.refusedConfirmRequests.length === 1, 'the confirm request');
    assert.equal(t.reporter.confirmRequests.length, 0);
    t.reporter.connected = true;
    t.executor.onConnected();
    t.executor.onConnected();
    assert.equal(t.reporter.confirmRequests.length, 2);
    t.executor.confirm('d1');
    await flow;
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
  });

  it('fails instead of rolling back on a fresh host', async () => {
    const t = harness();
    t.host.current = null;
    t.host.profile = null;
    t.activator.behaviour = () => 2;
    await t.executor.handle(deployRequest());
    const result = t.reporter.results[0];
    assert.equal(result?.outcome, 'failed');
    assert.equal(
      result?.error?.message,
      'switch-to-configuration test exited 2; there is no previous system to roll back to',
    );
    assert.equal(result?.previousSystem, null);
    assert.deepEqual(t.activator.started, ['NEW test']);
  });

  it('runs test without making anything permanent', async () => {
    const t = harness();
    const { flow } = await untilConfirming(t, deployRequest({ action: 'test' }));
    t.executor.confirm('d1');
    await flow;
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    assert.deepEqual(t.activator.started, ['NEW test']);
    assert.deepEqual(t.store.calls, []);
  });

  it('sets the profile and boot entry for boot, without confirmation', async () => {
    const t = harness();
    await t.executor.handle(deployRequest({ action: 'boot' }));
    assert.deepEqual(t.reporter.phases(), ['fetching', 'setting_profile', 'activating']);
    assert.deepEqual(t.activator.started, ['NEW boot']);
    assert.equal(t.host.profile, NEW);
    assert.equal(t.host.current, OLD);
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    assert.equal(t.reporter.results[0]?.rebootRequired, true);
  });

  it('sets the profile back and switches to the previous system when boot fails', async () => {
    const t = harness();
    t.activator.behaviour = (path) => (path === NEW ? 2 : 0);
    await t.executor.handle(deployRequest({ action: 'boot' }));
    assert.deepEqual(t.store.calls, [`set ${NEW}`, `set ${OLD}`]);
    assert.deepEqual(t.activator.started, ['NEW boot', 'OLD switch']);
    assert.equal(t.reporter.results[0]?.outcome, 'rolled_back');
    assert.equal(t.host.profile, OLD);
  });

  it('reports a failed rollback as failed, with both reasons', async () => {
    const t = harness();
    // The old system cannot be activated again either (100: nothing was activated).
    t.activator.behaviour = (path) => (path === OLD ? 100 : 2);
    await t.executor.handle(deployRequest());
    const result = t.reporter.results[0];
    assert.equal(result?.outcome, 'failed');
    assert.match(
      result?.error?.message ?? '',
      /^rolling back to .* failed: switch-to-configuration test exited 100; the host runs .*nixos-system-hsb1-2 \(rolled back because: switch-to-configuration test exited 2\)$/,
    );
  });

  it('runs dry-activate and changes nothing, also when it fails', async () => {
    const t = harness();
    t.activator.behaviour = () => 2;
    await t.executor.handle(deployRequest({ action: 'dry-activate' }));
    assert.equal(t.reporter.results[0]?.outcome, 'failed');
    assert.equal(t.reporter.results[0]?.error?.code, 'activation_failed');
    assert.deepEqual(t.activator.started, ['NEW dry-activate']);
    assert.deepEqual(t.store.calls, []);
  });

  it('treats deploying the running system as a no-op, committing only a missing boot entry', async () => {
    const t = harness();
    t.host.current = NEW;
    t.host.profile = NEW;
    await t.executor.handle(deployRequest());
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    assert.deepEqual(t.activator.started, []);
    assert.ok(
      t.reporter.lines().some((line) => /already the running system; nothing to do/.test(line)),
    );

    const u = harness();
    u.host.current = NEW;
    await u.executor.handle(deployRequest());
    assert.equal(u.reporter.results[0]?.outcome, 'succeeded');
    assert.deepEqual(u.activator.started, ['NEW boot']);
    assert.equal(u.host.profile, NEW);
  });

  it('pins two generations of the profile beside the activation, and ends only after the pin', async () => {
    const t = harness();
    t.store.generations.set(1, OLD);
    t.store.generations.set(2, NEW);
    let release = () => {};
    t.store.pinHold = new Promise((resolve) => (release = resolve));
    const { flow } = await untilConfirming(t);
    assert.deepEqual(t.store.pins, [[NEW, OLD]], 'started, not waited for');
    t.executor.confirm('d1');
    await waitFor(async () => (await t.journalPhase()) === 'finished', 'the journal finished');
    assert.equal(t.executor.activeDeploymentId, 'd1', 'the clean-up waits for the pin');
    release();
    await flow;
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    assert.equal(t.store.roots.size, 0, 'the roots are released after they were made');
  });

  it('starts a release its plan prepared without asking Nix first; the pin runs beside', async () => {
    const t = harness();
    t.store.preparedPaths.add(NEW);
    t.store.generations.set(1, OLD);
    t.store.signed.delete(NEW); // a check now would refuse it: none is made
    let release = () => {};
    t.store.pinHold = new Promise((resolve) => (release = resolve));
    const { flow } = await untilConfirming(t);
    assert.deepEqual(t.store.pins, [[NEW, OLD]], 'started, not waited for');
    assert.deepEqual(t.store.verified, [], 'checked when it was prepared');
    assert.ok(
      t.reporter
        .lines()
        .includes(
          `${NEW} was prepared for this deployment: in the store, kept, and signed by a trusted key`,
        ),
    );
    t.executor.confirm('d1');
    release();
    await flow;
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');

    // The previous system neither a generation nor prepared: the usual path.
    const u = harness();
    u.store.preparedPaths.add(NEW);
    const usual = await untilConfirming(u);
    u.executor.confirm('d1');
    await usual.flow;
    assert.deepEqual(u.store.verified, [NEW], 'checked, as any release');
  });

  it('fetches a missing closure and fails with fetch_failed without a cache', async () => {
    const t = harness();
    t.store.valid.delete(NEW);
    await t.executor.handle(deployRequest());
    assert.equal(t.reporter.results[0]?.error?.code, 'fetch_failed');
    assert.deepEqual(t.activator.started, []);

    const u = harness();
    u.store.valid.delete(NEW);
    const flow = u.executor.handle(deployRequest({ cache: { url: 'http://u:pw@cache.local/' } }));
    await waitFor(() => u.reporter.confirmRequests.length > 0, 'confirming');
    u.executor.confirm('d1');
    await flow;
    assert.deepEqual(u.store.calls, [`fetch ${NEW}`, `set ${NEW}`]);
    assert.deepEqual(u.store.pins, [[NEW, OLD], [NEW], [OLD]], 'pinned one by one once fetched');
    assert.deepEqual(u.store.verified, [NEW, NEW], 'asked again after the fetch');
    assert.ok(u.reporter.lines().includes(`fetching ${NEW} from http://cache.local/`));
    assert.ok(u.reporter.lines().every((line) => !line.includes('pw')));
  });

  it('activates nothing that is not signed by a trusted key, fetched or already there', async () => {
    const fetched = harness();
    fetched.store.valid.delete(NEW);
    fetched.store.signed.delete(NEW);
    await fetched.executor.handle(deployRequest({ cache: { url: 'http://ctl/cache' } }));
    const result = fetched.reporter.results[0];
    assert.equal(result?.outcome, 'failed');
    assert.equal(result?.error?.code, 'untrusted_closure');
    assert.deepEqual(fetched.activator.started, [], 'nothing was activated');
    assert.equal(fetched.host.profile, OLD);

    const present = harness();
    present.store.signed.delete(NEW);
    await present.executor.handle(deployRequest());
    assert.equal(present.reporter.results[0]?.error?.code, 'untrusted_closure');
    assert.deepEqual(present.activator.started, []);
  });

  it('activates an unsigned system that is one of its own generations (a rollback)', async () => {
    const t = harness();
    t.store.signed.delete(NEW);
    t.store.generations.set(7, NEW);
    const { flow } = await untilConfirming(t);
    t.executor.confirm('d1');
    await flow;
    assert.equal(t.reporter.results[0]?.outcome, 'succeeded');
    assert.ok(t.reporter.lines().includes(`${NEW} is generation 7 of /p/system`));
    assert.deepEqual(t.store.verified, [], 'no signature needed');
  });

  it('refuses in monitor mode and while another deployment is in progress', async () => {
    const monitor = harness('monitor');
    await monitor.executor.handle(deployRequest());
    assert.equal(monitor.reporter.results[0]?.error?.code, 'host_not_managed');

    const t = harness();
    const { flow } = await untilConfirming(t);
    await t.executor.handle(deployRequest({ deploymentId: 'd2' }));
    await t.executor.handle(deployRequest());
    assert.deepEqual(
      t.reporter.results.map((r) => [r.deploymentId, r.outcome, r.error?.code]),
      [['d2', 'refused', 'agent_busy']],
    );
    assert.equal(t.executor.activeDeploymentId, 'd1');
    t.executor.confirm('d1');
    await flow;
    await t.executor.handle(deployRequest());
    assert.equal(t.reporter.results.length, 2, 'a repeat of a finished deployment is ignored');
  });

  it('takes the next deployment as soon as the last one reported, while it still cleans up', async () => {
    const t = harness();
    let next: Promise<void> | undefined;
    t.reporter.onResult = (result) => {
      if (result.deploymentId === 'd1') {
        next = t.executor.handle(deployRequest({ deploymentId: 'd2', action: 'test' }));
      }
    };
    const { flow } = await untilConfirming(t);
    t.executor.confirm('d1');
    await flow;
    assert.ok(next, 'd2 was sent when d1 reported');
    await next;
    await t.executor.idle();
    assert.deepEqual(
      t.reporter.results.map((r) => [r.deploymentId, r.outcome]),
      [
        ['d1', 'succeeded'],
        ['d2', 'succeeded'],
      ],
    );
  });
});
