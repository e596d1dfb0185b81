import type { HealthCheckResult } from '@flotilla/protocol';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import { finish } from './finish.js';
import { beginRollback } from './rollback.js';

/**
 * Phase `confirming`: the new system runs (activated with `test`). It must pass its health
 * checks and then be confirmed by the controller before the deadline, or the host rolls
 * back by itself — without any controller, which is the point when the new system broke
 * the network. The deadline is absolute (in the journal), so a restart does not extend it.
 */
export async function confirmStep(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const { confirmDeadline, confirmTimeoutSeconds } = run.journal;
  const deadline = confirmDeadline ?? deps.clock.now().getTime();
  const late = `no confirmation from the controller within ${confirmTimeoutSeconds} s`;
  if (deps.clock.now().getTime() >= deadline)
    return beginRollback(run, deps, late, 'verification_failed');
  // What is confirmed is the new system running: after a reboot (a power cut, say) the host
  // runs the previous one again, whatever the journal got to say before.
  const current = await deps.host.currentSystem();
  if (current !== run.journal.storePath) {
    const reason = `the host no longer runs ${run.journal.storePath} (it runs ${current ?? 'an unknown system'}; rebooted?)`;
    return beginRollback(run, deps, reason, 'verification_failed');
  }

  let health = run.journal.health;
  if (health === null) {
    health = await runHealthChecks(run, deps);
    // Not durable: lost to a power cut, the checks only run again.
    await run.update({ health }, { durable: false });
    const failed = health.filter((result) => !result.ok);
    if (failed.length > 0) {
      const reason = failed.map((r) => `health check ${r.name} failed: ${r.detail}`).join('; ');
      return beginRollback(run, deps, reason, 'verification_failed');
    }
    if (health.length > 0) run.say(`all ${health.length} health checks passed`);
  }

  const seconds = Math.ceil((deadline - deps.clock.now().getTime()) / 1000);
  run.say(`waiting for the controller to confirm (${seconds} s left)`);
  // A confirmed switch sets the profile next: its lock is taken meanwhile (every `nix-env`
  // on the profile waits for the answer, which is about to change the profile anyway).
  if (run.journal.action === 'switch') run.lockProfileAhead(deps.store.lockProfile(deps.profile));
  const confirmed = await deps.gate.wait(
    { type: 'deploy.confirm_request', deploymentId: run.id, health },
    deadline,
    deps.clock,
    deps.signal,
  );
  if (!confirmed) return beginRollback(run, deps, late, 'verification_failed');
  run.say('confirmed by the controller');
  if (run.journal.action === 'test') return finish(run, deps, { outcome: 'succeeded' });
  // The commit step records `profileChanged` durably before it acts.
  await run.enter('committing', {}, { durable: false });
}

/** The request's checks, one after another, plus "no unit failed that ran before" where systemd runs. */
async function runHealthChecks(run: DeploymentRun, deps: FlowDeps): Promise<HealthCheckResult[]> {
  const results: HealthCheckResult[] = [];
  for (const check of run.journal.healthChecks) {
    const result = await deps.health.run(check);
    run.say(`health check ${result.name}: ${result.ok ? 'ok' : 'FAILED'} (${result.detail})`);
    results.push(result);
  }
  const before = run.journal.failedUnitsBefore;
  if (before !== null) {
    const after = await deps.host.failedUnits();
    const newlyFailed = after === null ? null : after.filter((unit) => !before.includes(unit));
    const result: HealthCheckResult =
      newlyFailed === null
        ? { name: 'systemd units', ok: false, detail: 'cannot list failed units after activating' }
        : newlyFailed.length > 0
          ? {
              name: 'systemd units',
              ok: false,
              detail: `failed since activating: ${newlyFailed.join(', ')}`.slice(0, 2000),
            }
          : { name: 'systemd units', ok: true, detail: 'no unit failed since activating' };
    run.say(`health check ${result.name}: ${result.ok ? 'ok' : 'FAILED'} (${result.detail})`);
    results.push(result);
  }
  return results;
}
