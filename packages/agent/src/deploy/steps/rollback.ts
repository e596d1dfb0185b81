import type { ErrorCode } from '@flotilla/protocol';
import { describeActivation } from '../activator.js';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import { finish } from './finish.js';
import { runIdempotentActivation } from './run-activation.js';

/**
 * Decides to roll back: records why (the journal's `rollbackReason` and `error`) and moves
 * to `rolling_back`; on a fresh host, with nothing to go back to, the deployment fails.
 */
export async function beginRollback(
  run: DeploymentRun,
  deps: FlowDeps,
  reason: string,
  code: ErrorCode,
): Promise<void> {
  const previous = run.journal.previousSystem;
  if (previous === null) {
    const message = `${reason}; there is no previous system to roll back to`;
    return finish(run, deps, { outcome: 'failed', error: { code, message } });
  }
  // Setting the profile back (and every activation's `nix-env`) needs the lock.
  await run.releaseProfileLock();
  run.say(`rolling back to ${previous}: ${reason}`);
  await run.enter('rolling_back', { rollbackReason: reason, error: { code, message: reason } });
}

/**
 * Phase `rolling_back`: activates the exact system that ran before (never `nix-env
 * --rollback`, whose next-lower generation need not be it). While the profile is
 * untouched (test-first), `switch-to-configuration test` suffices and the boot entry
 * stays as it was; once the profile was changed, it is set back and `switch` rewrites the
 * boot entry too. Both are idempotent, so an interrupted rollback is simply redone.
 */
export async function rollbackStep(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const { previousSystem: previous, profileChanged } = run.journal;
  if (previous === null) throw new Error('rolling back without a previous system');
  const action = profileChanged ? 'switch' : 'test';
  if (profileChanged && run.journal.activation?.step !== 'rollback') {
    run.say(`setting profile ${deps.profile} back to ${previous}`);
    const set = await deps.store.setProfile(deps.profile, previous, run.output);
    if (set.ok) run.afterResult(set.root);
    else run.say(`cannot set the profile back: ${set.reason}`);
  }
  const outcome = await runIdempotentActivation(run, deps, {
    step: 'rollback',
    storePath: previous,
    action,
  });
  const current = await deps.host.currentSystem();
  if (current === previous) {
    if (outcome.exitCode !== 0) {
      run.say(
        `the previous system runs again although its activation ${describeActivation(outcome)}`,
      );
    }
    return finish(run, deps, { outcome: 'rolled_back', rebootRequired: outcome.exitCode === 100 });
  }
  const message =
    `rolling back to ${previous} failed: switch-to-configuration ${action} ` +
    `${describeActivation(outcome)}; the host runs ${current ?? 'an unknown system'} ` +
    `(rolled back because: ${run.journal.rollbackReason ?? 'unknown'})`;
  return finish(run, deps, {
    outcome: 'failed',
    error: { code: 'activation_failed', message },
    rebootRequired: outcome.exitCode === 100,
  });
}
