import * as z from 'zod';
import { DeploymentStatus } from './deployment-state.js';
import { HostMode } from './facts.js';
import { HostOutputKind, NixErrorLocation } from './pipeline.js';
import { Policy } from './policy.js';

/** How a host's running system compares with what its branch declares. */
export const HostSyncState = z.enum(['up_to_date', 'behind', 'drifted', 'unknown']);
export type HostSyncState = z.infer<typeof HostSyncState>;

/**
 * A host's running revision against the branch head. With the host's declared output
 * evaluated (`declaredPath`, every host, Macs included, never built): `up_to_date` when it
 * runs that output path, `behind` when it runs the output an older revision evaluated to
 * (`behindBy` commits when git can tell), `drifted` when it runs something no revision,
 * release or deployment explains (a switch by hand from a dirty tree), `unknown` when the
 * host reports nothing or its output does not evaluate. Without it (evaluations stored
 * before outputs were), the same states from releases and deployments.
 */
export const HostSync = z.object({
  state: HostSyncState,
  /** The flake output that declares the host (config `hosts.NAME.output`). */
  output: z.object({ kind: HostOutputKind, attribute: z.string() }).optional(),
  /** What that output evaluates to at the branch head; null when it does not evaluate. */
  declaredPath: z.string().nullable().optional(),
  /** What the host reports it runs of that output (system, or home-manager generation). */
  runningPath: z.string().nullable().optional(),
  runningReleaseId: z.string().nullable(),
  runningRevisionId: z.string().nullable(),
  runningSha: z.string().nullable(),
  headSha: z.string().nullable(),
  behindBy: z.number().nullable(),
});
export type HostSync = z.infer<typeof HostSync>;

/** Where a host stands, as one story (the first state that applies, in this order). */
export const HostStoryState = z.enum([
  /** Monitor-only: shown, never deployed to. */
  'monitor',
  /** The agent has not reported what runs. */
  'unknown',
  /** A deployment is queued for or running on the host. */
  'deploying',
  /** It runs something no release or deployment explains. */
  'drifted',
  /** A release waits for a human. */
  'awaiting_approval',
  /** Approved, waiting for its wave, soak, window or another deployment. */
  'held',
  /** Pinned where it is; newer releases are not deployed by `auto`. */
  'pinned',
  /** The newest deployment failed or rolled back. */
  'failed',
  /** It runs a system Flotilla did not deploy (before its first deployment). */
  'not_deployed',
  /** It runs an older release than the newest built for it. */
  'behind',
  /** It runs the newest release built for it. */
  'up_to_date',
]);
export type HostStoryState = z.infer<typeof HostStoryState>;

/** `GET /api/v1/hosts/:name/status`: from the branch to the running system, in one story. */
export const HostStatusReport = z.object({
  host: z.string(),
  mode: HostMode,
  policy: Policy,
  online: z.boolean(),
  state: HostStoryState,
  /** One sentence for people, consistent with every field below. */
  summary: z.string(),
  /** More lines for people (what waits, why, what to do). */
  details: z.array(z.string()),
  /** What the branch head declares for the host (its newest evaluated revision). */
  declared: z.object({ revisionId: z.string(), sha: z.string(), drvPath: z.string() }).nullable(),
  /** The host's evaluation error at the branch head, if it has one. */
  declaredError: z
    .object({
      revisionId: z.string(),
      sha: z.string(),
      message: z.string(),
      location: NixErrorLocation.nullable(),
    })
    .nullable(),
  /** The newest release built for the host. */
  built: z
    .object({
      releaseId: z.string(),
      revisionId: z.string(),
      sha: z.string(),
      storePath: z.string(),
      status: z.string(),
    })
    .nullable(),
  /** A deployment that has not ended (waiting or in flight). */
  pending: z
    .object({
      deploymentId: z.string(),
      status: DeploymentStatus,
      releaseId: z.string().nullable(),
      storePath: z.string(),
      approvedBy: z.string().nullable(),
      holdReason: z.string().nullable(),
    })
    .nullable(),
  /** What the agent reports running, and the release that is, when one is. */
  running: z
    .object({
      storePath: z.string(),
      releaseId: z.string().nullable(),
      revisionId: z.string().nullable(),
      sha: z.string().nullable(),
    })
    .nullable(),
  /** The deployment that put the running system there, read back by the agent. */
  verified: z
    .object({ deploymentId: z.string(), storePath: z.string(), at: z.string().nullable() })
    .nullable(),
  /** The newest deployment that ended. */
  lastDeployment: z
    .object({
      deploymentId: z.string(),
      kind: z.enum(['deploy', 'rollback']),
      status: DeploymentStatus,
      storePath: z.string(),
      finishedAt: z.string().nullable(),
      error: z.string().nullable(),
    })
    .nullable(),
  pinned: z.object({ reason: z.string().nullable() }).nullable(),
  sync: HostSync,
});
export type HostStatusReport = z.infer<typeof HostStatusReport>;
