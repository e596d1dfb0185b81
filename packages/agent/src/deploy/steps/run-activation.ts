import type { DeployAction } from '@flotilla/protocol';
import {
  describeActivation,
  switchToConfiguration,
  type ActivationOutcome,
  type ActivationStep,
} from '../activator.js';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import type { DeploymentJournal } from '../journal.js';

export interface ActivationSpec {
  step: ActivationStep;
  storePath: string;
  action: DeployAction;
  /** Saved with the record of a new start, in the same journal write. */
  onStart?: Partial<DeploymentJournal>;
  /** Saved with the outcome, in the same journal write. */
  onEnd?: (outcome: ActivationOutcome) => Partial<DeploymentJournal>;
}

/**
 * Runs one `switch-to-configuration` of the deployment to its end: starts it, or, when
 * the journal shows this step's activation already started (the agent restarted), follows
 * that one instead of starting a second. `retry` starts a fresh attempt even so (for
 * idempotent steps whose earlier attempt's outcome was lost). Log lines are forwarded
 * after their offset is saved, so a restart of the agent never sends a line twice.
 */
export async function runActivation(
  run: DeploymentRun,
  deps: FlowDeps,
  spec: ActivationSpec,
  retry = false,
): Promise<ActivationOutcome> {
  const previous = run.journal.activation;
  const same = previous?.step === spec.step;
  if (same && previous.outcome !== null && !retry) return previous.outcome;
  let record = previous;
  if (!same || retry) {
    const attempt = same ? previous.attempt + 1 : 1;
    const handle = deps.activator.plan({
      deploymentId: run.id,
      step: spec.step,
      attempt,
      storePath: spec.storePath,
      action: spec.action,
    });
    record = {
      step: spec.step,
      attempt,
      handle,
      logOffset: 0,
      startedAt: deps.clock.now().getTime(),
      outcome: null,
    };
    await run.update({ ...spec.onStart, activation: record });
    run.say(`running ${switchToConfiguration(spec.storePath)} ${spec.action}`);
    await deps.activator.start(handle);
    run.startDeferred();
  } else {
    run.say(`following the ${spec.step} activation started before the agent restarted`);
  }
  if (record === null) throw new Error('unreachable: no activation record');
  const outcome = await deps.activator.follow(record.handle, {
    offset: record.logOffset,
    startedAt: record.startedAt,
    signal: deps.signal,
    onLines: async (lines, offset) => {
      const current = run.journal.activation;
      // Not synced: the offset survives a restart of the agent (the page cache does); after a
      // power cut, at worst lines already sent are sent again. One fsync per chunk of output
      // would hold up every line of the activation.
      if (current !== null) {
        await run.update({ activation: { ...current, logOffset: offset } }, { durable: false });
      }
      for (const line of lines) run.output('stdout', line);
    },
  });
  const current = run.journal.activation ?? record;
  // Not synced: whatever the outcome, the caller's next write before it acts is (the next
  // phase, the rollback, or the result in the outbox); lost, the outcome is read again from
  // the runner's files, or counts as lost.
  await run.update(
    { ...spec.onEnd?.(outcome), activation: { ...current, outcome } },
    { durable: false },
  );
  run.say(`switch-to-configuration ${spec.action} ${describeActivation(outcome)}`);
  return outcome;
}

/** How many times an idempotent step (commit, rollback) is tried when its outcome was lost. */
export const MAX_ATTEMPTS = 3;

/**
 * {@link runActivation}, started again while the outcome is lost (the runner vanished),
 * for steps that are safe to repeat.
 */
export async function runIdempotentActivation(
  run: DeploymentRun,
  deps: FlowDeps,
  spec: ActivationSpec,
): Promise<ActivationOutcome> {
  let outcome = await runActivation(run, deps, spec);
  while (
    outcome.lost !== null &&
    (run.journal.activation?.attempt ?? MAX_ATTEMPTS) < MAX_ATTEMPTS
  ) {
    run.say(`the outcome of ${spec.step} is unknown (${outcome.lost}); running it again`);
    outcome = await runActivation(run, deps, spec, true);
  }
  return outcome;
}
