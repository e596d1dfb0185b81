import * as z from 'zod';
import { DeploymentStatus } from './deployment-state.js';
import { HostMode } from './facts.js';
import { BuildStatus, HostEvaluationError, ReleaseStatus } from './pipeline.js';
import { RevisionKind, RevisionStatus } from './repository.js';

/** Where one commit stands in the pipeline, host by host: what `flotilla wait` follows. */

/**
 * `GET /api/v1/revisions/:rev/status`: `rev` is a revision id, a commit id or an unambiguous
 * prefix of one (at least 7 hex digits), `HEAD` or the tracked branch's name (its newest
 * revision), or a previewed ref such as `refs/pull/12/head` (its newest preview).
 */
export const RevisionSelector = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._/+@-]+$/, 'must be a revision id, a commit id or a ref');
export type RevisionSelector = z.infer<typeof RevisionSelector>;

/** The stages `flotilla wait --for` can wait for, in pipeline order. */
export const WaitStage = z.enum(['evaluated', 'built', 'approved', 'deployed', 'verified']);
export type WaitStage = z.infer<typeof WaitStage>;

/** One host at one revision: its evaluation, build, release and deployment, as far as each got. */
export const RevisionHostStatus = z.object({
  host: z.string(),
  /** The registered host's mode; null when no agent is registered under this name. */
  mode: HostMode.nullable(),
  /** `pending` until the revision is evaluated; `failed` with `error` when this host's did. */
  evaluation: z.enum(['pending', 'ok', 'failed']),
  error: HostEvaluationError.nullable(),
  drvPath: z.string().nullable(),
  /**
   * The derivation differs from the base revision's (the previous branch head, or for a
   * preview the branch it is compared with). An unchanged host gets no build of its own.
   */
  changed: z.boolean(),
  /**
   * The build of this derivation: this revision's own, or the earlier one it reuses or
   * waits for; a host not rebuilt because the same derivation failed before shows that build.
   */
  build: z
    .object({
      id: z.string(),
      status: BuildStatus,
      /** The first lines of Nix's error of a failed build. */
      errorSummary: z.string().nullable(),
      /** True when this derivation failed before and is not built again until retried. */
      notRebuilt: z.boolean(),
    })
    .nullable(),
  /** The host's release of this derivation (branch revisions only). */
  release: z.object({ id: z.string(), status: ReleaseStatus }).nullable(),
  /** The newest deployment of that release. */
  deployment: z
    .object({
      id: z.string(),
      status: DeploymentStatus,
      errorCode: z.string().nullable(),
      errorMessage: z.string().nullable(),
    })
    .nullable(),
});
export type RevisionHostStatus = z.infer<typeof RevisionHostStatus>;

export const RevisionPipelineStatus = z.object({
  revision: z.object({
    id: z.string(),
    sha: z.string(),
    ref: z.string(),
    kind: RevisionKind,
    /** The first line of the commit message. */
    subject: z.string(),
    status: RevisionStatus,
    discoveredAt: z.string(),
    evaluatedAt: z.string().nullable(),
    baseRevisionId: z.string().nullable(),
  }),
  /** The evaluation of the whole flake failed (no host evaluated): what Nix said and where. */
  error: HostEvaluationError.nullable(),
  /** Every host the flake declares at this revision (and at its base), by name. */
  hosts: z.array(RevisionHostStatus),
});
export type RevisionPipelineStatus = z.infer<typeof RevisionPipelineStatus>;
