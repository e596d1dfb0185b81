import type { DeployAction } from '@flotilla/protocol';
import { describeActivation, type ActivationOutcome } from '../activator.js';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import { failure, finish } from './finish.js';
import { beginRollback } from './rollback.js';
import { runActivation } from './run-activation.js';

/**
 * switch-to-configuration's exit code when the new system needs a reboot: the bootloader
 * was updated (switch, boot) but the init interface changed, so nothing was activated.
 */
export const EXIT_REBOOT_REQUIRED = 100;

/**
 * Phase `activating`: runs the new system's `switch-to-configuration`. A `switch` is
 * activated with `test` first, so until it is confirmed a reboot (or a rollback) brings
 * back the previous system; the boot entry is only written when committing.
 */
export async function activateStep(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const { action, storePath } = run.journal;
  const stcAction: DeployAction = action === 'switch' ? 'test' : action;
  const changesRunningSystem = action === 'switch' || action === 'test';
  // Only units that fail with the new system count against it. Saved with the start of the
  // activation (one journal write); a restart before that asks again.
  const onStart =
    changesRunningSystem && run.journal.activation?.step !== 'activate'
      ? { failedUnitsBefore: await deps.host.failedUnits() }
      : {};
  const outcome = await runActivation(run, deps, {
    step: 'activate',
    storePath,
    action: stcAction,
    onStart,
    onEnd: (ended) => ({ activationExitCode: ended.exitCode }),
  });
  // Saved with the outcome already, unless that was recorded before a restart.
  if (run.journal.activationExitCode !== outcome.exitCode) {
    await run.update({ activationExitCode: outcome.exitCode });
  }
  return afterActivation(run, deps, outcome, stcAction);
}

async function afterActivation(
  run: DeploymentRun,
  deps: FlowDeps,
  outcome: ActivationOutcome,
  stcAction: DeployAction,
): Promise<void> {
  const { action, storePath, previousSystem, confirmTimeoutSeconds } = run.journal;
  const code = outcome.exitCode;
  const what = `switch-to-configuration ${stcAction} ${describeActivation(outcome)}`;
  const ok = code === 0 || code === EXIT_REBOOT_REQUIRED;
  switch (action) {
    case 'dry-activate':
      // Nothing was changed, so there is nothing to roll back either way.
      if (ok) return finish(run, deps, { outcome: 'succeeded', rebootRequired: code !== 0 });
      return finish(run, deps, failure('activation_failed', what));
    case 'boot':
      if (!ok) return beginRollback(run, deps, what, 'activation_failed');
      // The new system runs only after a reboot.
      return finish(run, deps, {
        outcome: 'succeeded',
        rebootRequired: previousSystem !== storePath,
      });
    case 'switch':
    case 'test':
      if (code === 0) {
        const confirmDeadline = deps.clock.now().getTime() + confirmTimeoutSeconds * 1000;
        run.say(`activated; the controller must confirm within ${confirmTimeoutSeconds} s`);
        // Not synced: a power cut reboots into the previous system anyway (the boot entry
        // is only written when committing), and an agent that finds the activation's outcome
        // lost rolls back, which is where a restart in `confirming` past its deadline ends too.
        return run.enter('confirming', { confirmDeadline }, { durable: false });
      }
      if (code === EXIT_REBOOT_REQUIRED && action === 'switch') {
        run.say(
          `${what}: the new system needs a reboot; nothing was activated, making it the boot default`,
        );
        await run.update({ rebootRequired: true });
        return run.enter('committing', {}, { durable: false });
      }
      if (code === EXIT_REBOOT_REQUIRED) {
        const message = `${what}: the new system needs a reboot, which "test" never gives it; nothing was activated`;
        return finish(run, deps, failure('activation_failed', message));
      }
      return beginRollback(run, deps, what, 'activation_failed');
  }
}
