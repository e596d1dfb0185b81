import { join } from 'node:path';
import type { DeployOutcome, DeployResult, ErrorBody, ErrorCode } from '@flotilla/protocol';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';

/** How a deployment ended, as decided by a step. */
export interface DeploymentEnd {
  outcome: Exclude<DeployOutcome, 'refused'>;
  /** For failed deployments; a rollback's cause is taken from the journal. */
  error?: ErrorBody | null;
  rebootRequired?: boolean;
}

/** A failed end with a stable code. */
export function failure(code: ErrorCode, message: string): DeploymentEnd {
  return { outcome: 'failed', error: { code, message } };
}

/**
 * The GC roots a pending deployment holds (see NIX-MECHANICS: pin closures while pending):
 * the new system's, and the previous one's, named as `nix-store --add-root` names the root
 * of its second path. `legacy` is where agents before that kept the previous one.
 */
export function gcRoots(deps: FlowDeps): { pending: string; previous: string; legacy: string } {
  return {
    pending: join(deps.gcRootsDir, 'pending'),
    previous: join(deps.gcRootsDir, 'pending-2'),
    legacy: join(deps.gcRootsDir, 'previous'),
  };
}

/**
 * Ends the deployment: reads the running system again, stores the result in the outbox
 * (which sends it until acknowledged), then marks the journal finished and cleans up.
 * Safe to repeat: after a crash in between, the result is simply stored again.
 */
export async function finish(
  run: DeploymentRun,
  deps: FlowDeps,
  end: DeploymentEnd,
): Promise<void> {
  await run.releaseProfileLock();
  const journal = run.journal;
  const currentSystem = await deps.host.currentSystem();
  const rebootRequired =
    journal.rebootRequired || end.rebootRequired === true || (await deps.host.rebootRequired());
  const error = end.error ?? (end.outcome === 'rolled_back' ? journal.error : null);
  switch (end.outcome) {
    case 'succeeded':
      run.say(`succeeded; current system is ${currentSystem ?? 'unknown'}`);
      break;
    case 'rolled_back':
      run.say(
        `rolled back to ${journal.previousSystem ?? 'unknown'} (${journal.rollbackReason ?? 'unknown reason'})`,
      );
      break;
    case 'failed':
      run.say(`failed: ${error?.message ?? 'unknown error'}`);
      break;
  }
  if (rebootRequired) run.say('a reboot is required to run the new system completely');
  const result: DeployResult = {
    type: 'deploy.result',
    deploymentId: run.id,
    outcome: end.outcome,
    exitCode: journal.activationExitCode,
    error,
    currentSystem,
    previousSystem: journal.previousSystem,
    rollbackReason: journal.rollbackReason,
    rebootRequired,
  };
  await run.deliver(result);
  await finalize(run, deps, end.outcome);
}

/** Marks the journal finished and releases what the deployment held (GC roots, activation files). */
export async function finalize(
  run: DeploymentRun,
  deps: FlowDeps,
  outcome: DeployOutcome | null,
): Promise<void> {
  await run.enter('finished', { outcome: outcome ?? run.journal.outcome });
  const roots = gcRoots(deps);
  try {
    // A pin still under way would otherwise make its root after the unpin.
    await run.settled();
    await Promise.all(
      [roots.pending, roots.previous, roots.legacy].map((root) => deps.store.unpin(root)),
    );
    await deps.activator.discard(run.id);
  } catch (error) {
    run.logger.warn('cannot clean up after the deployment', { error });
  }
}
