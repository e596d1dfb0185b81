import {
  formatNixErrorLocation,
  type HostEvaluationError,
  type RevisionHostStatus,
  type RevisionPipelineStatus,
  type WaitStage,
} from '@flotilla/protocol';

/**
 * What became of one commit for the hosts someone waits on, decided from the controller's
 * pipeline status alone (pure, so `flotilla wait` and the MCP tool decide alike).
 */

/** How a wait ends; `pending` means not yet. */
export type WaitState =
  'reached' | 'pending' | 'evaluation_failed' | 'build_failed' | 'deployment_failed' | 'timed_out';

/** The exit code of `flotilla wait` for each way it ends. */
export const WAIT_EXIT_CODES: Record<Exclude<WaitState, 'pending'>, number> = {
  reached: 0,
  evaluation_failed: 3,
  build_failed: 4,
  deployment_failed: 5,
  timed_out: 124,
};

/** One host's part of a wait. */
export interface HostWait {
  host: string;
  state: Exclude<WaitState, 'timed_out'>;
  /** How far it got, in words: `built`, `awaiting_approval`, `unchanged`, `build failed`. */
  stage: string;
  /** What went wrong, Nix's words first; null unless it failed. */
  error: { message: string; location: string | null; buildId: string | null } | null;
  buildId: string | null;
  releaseId: string | null;
  deploymentId: string | null;
}

export interface WaitOutcome {
  state: WaitState;
  target: WaitStage;
  revision: RevisionPipelineStatus['revision'] | null;
  /** The whole flake failed to evaluate. */
  error: { message: string; location: string | null } | null;
  hosts: HostWait[];
}

/** Deployment statuses past each stage. */
const APPROVED = new Set(['approved', 'queued', 'activating', 'confirming', 'succeeded']);
const DEPLOYED = new Set(['confirming', 'succeeded']);
const DEPLOYMENT_FAILED = new Set([
  'rejected',
  'failed',
  'rolled_back',
  'cancelled',
  'expired',
  'superseded',
]);

/**
 * Decides the outcome. `status` null: the commit is not recorded yet (pending). Without
 * `hosts`, every host the revision declares counts; for `approved` and later only managed
 * hosts whose system changes (a monitor host, or one whose derivation is unchanged, gets no
 * deployment from this commit). A failure of any counted host ends the wait at once.
 * Throws RangeError when the wait cannot end: a preview waited on past `built`, or a host
 * the commit's flake does not declare.
 */
export function decideWait(
  status: RevisionPipelineStatus | null,
  target: WaitStage,
  hosts?: readonly string[],
): WaitOutcome {
  const outcome: WaitOutcome = {
    state: 'pending',
    target,
    revision: status?.revision ?? null,
    error: null,
    hosts: [],
  };
  if (status === null) return outcome;
  if (status.revision.status === 'failed') {
    outcome.error = errorOf(status.error ?? { message: 'evaluation failed', location: null });
    outcome.state = 'evaluation_failed';
    return outcome;
  }
  if (status.revision.status !== 'evaluated') return outcome;
  const deploys = target === 'approved' || target === 'deployed' || target === 'verified';
  if (status.revision.kind === 'preview' && deploys) {
    throw new RangeError('a preview is never deployed: wait for evaluated or built');
  }
  const byName = new Map(status.hosts.map((h) => [h.host, h]));
  const chosen =
    hosts === undefined
      ? status.hosts.filter(
          (h) => !deploys || h.evaluation === 'failed' || (h.mode === 'managed' && h.changed),
        )
      : hosts.flatMap((name) => byName.get(name) ?? []);
  const unknown = (hosts ?? []).filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new RangeError(`not a host of this commit's flake: ${unknown.join(', ')}`);
  }
  outcome.hosts = chosen.map((h) => hostWait(h, target, status.revision.kind === 'preview'));
  const states = new Set(outcome.hosts.map((h) => h.state));
  for (const failure of ['evaluation_failed', 'build_failed', 'deployment_failed'] as const) {
    if (states.has(failure)) {
      outcome.state = failure;
      return outcome;
    }
  }
  outcome.state = states.has('pending') ? 'pending' : 'reached';
  return outcome;
}

function hostWait(h: RevisionHostStatus, target: WaitStage, preview: boolean): HostWait {
  const base = {
    host: h.host,
    error: null,
    buildId: h.build?.id ?? null,
    releaseId: h.release?.id ?? null,
    deploymentId: h.deployment?.id ?? null,
  };
  const at = (state: HostWait['state'], stage: string): HostWait => ({ ...base, state, stage });
  if (h.evaluation === 'failed') {
    return {
      ...at('evaluation_failed', 'evaluation failed'),
      error: {
        ...errorOf(h.error ?? { message: 'evaluation failed', location: null }),
        buildId: null,
      },
    };
  }
  if (h.evaluation === 'pending') return at('pending', 'evaluating');
  if (target === 'evaluated') return at('reached', 'evaluated');
  const built = builtState(h, preview);
  if (built.state !== 'reached' || target === 'built') return built.wait(at, h);
  if (h.mode !== 'managed') return at('reached', h.mode === null ? 'not registered' : 'monitor');
  if (!h.changed && h.deployment === null) return at('reached', 'unchanged');
  const deployment = h.deployment;
  if (deployment === null) return at('pending', 'built, no deployment yet');
  const status = deployment.status;
  if (DEPLOYMENT_FAILED.has(status)) {
    return {
      ...at('deployment_failed', status),
      error: {
        message: deployment.errorMessage ?? `deployment ${status}`,
        location: null,
        buildId: null,
      },
    };
  }
  const past = target === 'approved' ? APPROVED : target === 'deployed' ? DEPLOYED : null;
  const reached = past === null ? status === 'succeeded' : past.has(status);
  return at(reached ? 'reached' : 'pending', status);
}

interface BuiltState {
  state: 'reached' | 'pending' | 'build_failed';
  wait(at: (state: HostWait['state'], stage: string) => HostWait, h: RevisionHostStatus): HostWait;
}

/** Whether the host's system is built (and, on the branch, signed into the cache). */
function builtState(h: RevisionHostStatus, preview: boolean): BuiltState {
  const build = h.build;
  if (build !== null && (build.status === 'failed' || build.status === 'cancelled')) {
    return {
      state: 'build_failed',
      wait: (at) => ({
        ...at(
          'build_failed',
          build.notRebuilt ? 'not rebuilt: failed before' : `build ${build.status}`,
        ),
        error: {
          message: build.errorSummary ?? `build ${build.status}`,
          location: null,
          buildId: build.id,
        },
      }),
    };
  }
  // On the branch a system counts as built once its release is signed into the cache.
  const ready = preview
    ? build?.status === 'succeeded' || (!h.changed && build === null)
    : h.release !== null
      ? h.release.status !== 'publishing'
      : !h.changed && build === null;
  if (ready)
    return { state: 'reached', wait: (at) => at('reached', h.changed ? 'built' : 'unchanged') };
  const stage =
    build === null ? 'build not queued yet' : h.release ? 'publishing' : `build ${build.status}`;
  return { state: 'pending', wait: (at) => at('pending', stage) };
}

function errorOf(error: HostEvaluationError): { message: string; location: string | null } {
  return {
    message: error.message,
    location: error.location ? formatNixErrorLocation(error.location) : null,
  };
}

/** The first lines of a build's error that say what failed, at most `max`. */
export function usefulErrorLines(text: string, max = 12): string[] {
  const lines = text.split('\n').map((line) => line.trimEnd());
  const first = lines.findIndex((line) => /\berror\b/i.test(line));
  return lines
    .slice(Math.max(first, 0))
    .filter((line) => line.trim() !== '')
    .slice(0, max);
}
