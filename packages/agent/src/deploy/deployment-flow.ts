import { StoppedError } from '../stop-signal.js';
import type { DeploymentRun, FlowDeps } from './deployment-run.js';
import type { JournalPhase } from './journal.js';
import { activateStep } from './steps/activate.js';
import { commitStep } from './steps/commit.js';
import { confirmStep } from './steps/confirm.js';
import { fetchStep, setProfileStep } from './steps/fetch.js';
import { failure, finish } from './steps/finish.js';
import { beginRollback, rollbackStep } from './steps/rollback.js';

type Step = (run: DeploymentRun, deps: FlowDeps) => Promise<void>;

/** What each phase does; every step ends by entering the next phase or finishing. */
const STEPS: Record<Exclude<JournalPhase, 'finished'>, Step> = {
  fetching: fetchStep,
  setting_profile: setProfileStep,
  activating: activateStep,
  confirming: confirmStep,
  committing: commitStep,
  rolling_back: rollbackStep,
};

/** No deployment takes this many steps; more means a bug, which must not spin forever. */
const MAX_STEPS = 20;

/**
 * Runs a deployment from whatever phase its journal is in until it has finished, so the
 * same code serves a new deployment and one resumed after a restart. Returns early (the
 * journal untouched) when the agent stops.
 */
export async function runDeployment(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  for (let steps = 0; run.journal.phase !== 'finished'; steps++) {
    const phase = run.journal.phase;
    try {
      if (steps >= MAX_STEPS) throw new Error(`the deployment did not settle (still ${phase})`);
      await STEPS[phase](run, deps);
    } catch (error) {
      if (error instanceof StoppedError) return;
      if (!(await recover(run, deps, phase, error))) return;
    }
  }
}

/**
 * An unexpected error (a bug, a full disk): roll back when something may have changed
 * already, otherwise fail. False when even that could not be recorded; the deployment is
 * then dropped in memory so later ones are not blocked forever.
 */
async function recover(
  run: DeploymentRun,
  deps: FlowDeps,
  phase: JournalPhase,
  error: unknown,
): Promise<boolean> {
  const message = `internal error while ${phase}: ${error instanceof Error ? error.message : String(error)}`;
  run.logger.error('deployment step failed unexpectedly', { phase, error });
  try {
    const changed = run.journal.profileChanged || run.journal.activation !== null;
    const canRollBack = run.journal.previousSystem !== null && phase !== 'rolling_back';
    if (changed && canRollBack && run.journal.phase !== 'finished') {
      await beginRollback(run, deps, message, 'internal_error');
    } else if (run.journal.phase !== 'finished') {
      await finish(run, deps, failure('internal_error', message));
    }
    return true;
  } catch (second) {
    if (second instanceof StoppedError) return false;
    run.logger.error('cannot record the end of the deployment', { error: second });
    run.journal = { ...run.journal, phase: 'finished' };
    return false;
  }
}
