import { describeActivation } from '../activator.js';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import { finish } from './finish.js';
import { beginRollback } from './rollback.js';
import { runIdempotentActivation } from './run-activation.js';

/**
 * Phase `committing`: makes a confirmed `switch` permanent — `nix-env --set` on the
 * profile, then `switch-to-configuration boot` for the boot entry. Both are idempotent
 * (the same path again adds no generation), so an interrupted commit is simply redone.
 */
export async function commitStep(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const { storePath } = run.journal;
  if (run.journal.activation?.step !== 'commit') {
    // Said before acting: after a crash there is no telling whether nix-env ran.
    await run.update({ profileChanged: true });
    run.say(`setting profile ${deps.profile} to ${storePath}`);
    const lock = await run.takeProfileLock();
    const set = await deps.store.setProfile(deps.profile, storePath, run.output, lock);
    if (!set.ok) return beginRollback(run, deps, set.reason, 'profile_failed');
    run.afterResult(set.root);
  } else {
    await run.releaseProfileLock();
  }
  const outcome = await runIdempotentActivation(run, deps, {
    step: 'commit',
    storePath,
    action: 'boot',
  });
  if (outcome.exitCode === 0 || outcome.exitCode === 100) {
    return finish(run, deps, { outcome: 'succeeded', rebootRequired: outcome.exitCode === 100 });
  }
  const reason = `switch-to-configuration boot ${describeActivation(outcome)}`;
  return beginRollback(run, deps, reason, 'activation_failed');
}
