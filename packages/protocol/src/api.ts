import * as z from 'zod';
import { Facts, HostMode, HostOs, Metrics } from './facts.js';
import { DeploymentStatus } from './deployment-state.js';
import { HostSync } from './status.js';
import { FORCE_REASON_MESSAGE, ForceFields, forceNeedsReason } from './force.js';
import {
  DEFAULT_ENROLLMENT_TTL_SECONDS,
  EnrollmentToken,
  EnrollmentTtlSeconds,
  HostIdentity,
} from './identity.js';
import { DeployAction, DeployPhase, HostName, LogStream } from './messages.js';
import { SystemPath } from './store-path.js';
import { DeploymentPlan } from './plan.js';

/** Bodies of the HTTP API under /api/v1. The controller validates with them; the CLI parses with them. */

export const HostStatus = z.enum(['online', 'offline', 'never_seen']);
export type HostStatus = z.infer<typeof HostStatus>;

export const Host = z.object({
  name: z.string(),
  mode: HostMode,
  os: HostOs.nullable(),
  status: HostStatus,
  agentVersion: z.string().nullable(),
  /** True when the agent's version is older than the controller's. */
  agentOutdated: z.boolean(),
  protocolVersion: z.number().nullable(),
  connectedAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  facts: Facts.nullable(),
  factsAt: z.string().nullable(),
  metrics: Metrics.nullable(),
  createdAt: z.string(),
  /** Running revision against the branch head; absent where the answer does not carry it. */
  sync: HostSync.optional(),
  /** The agent's enrolled key; absent where the answer does not carry it. */
  identity: HostIdentity.optional(),
});
export type Host = z.infer<typeof Host>;

export const HostList = z.object({
  hosts: z.array(Host),
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: z.string().nullable(),
  counts: z.object({
    total: z.number(),
    online: z.number(),
    offline: z.number(),
    neverSeen: z.number(),
  }),
});
export type HostList = z.infer<typeof HostList>;

export const HostListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(63).optional(),
  status: HostStatus.optional(),
});
export type HostListQuery = z.infer<typeof HostListQuery>;

export const CreateHostRequest = z.object({
  name: HostName,
  mode: HostMode.default('managed'),
  os: HostOs.optional(),
  /** How long the host's first enrollment token stays valid (default 1 h). */
  enrollmentExpiresInSeconds: EnrollmentTtlSeconds.default(DEFAULT_ENROLLMENT_TTL_SECONDS),
});
export type CreateHostRequest = z.infer<typeof CreateHostRequest>;

export const CreateHostResponse = z.object({
  host: Host,
  /** The one-time token the host's agent enrolls with. Shown once; only its hash is stored. */
  enrollment: EnrollmentToken,
});
export type CreateHostResponse = z.infer<typeof CreateHostResponse>;

export const LogLine = z.object({
  seq: z.number(),
  at: z.string(),
  stream: LogStream,
  line: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;

export const Deployment = z.object({
  id: z.string(),
  host: z.string(),
  storePath: z.string(),
  /** The pipeline release deployed, when the deployment came from one. */
  releaseId: z.string().nullable(),
  action: DeployAction,
  status: DeploymentStatus,
  phase: DeployPhase.nullable(),
  actor: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  /** The host's current system as the agent read it after activation. */
  resultSystem: z.string().nullable(),
  /** `rollback` when a human rolled the host back to an earlier generation. */
  kind: z.enum(['deploy', 'rollback']),
  /** The system the host ran before; a rollback re-activates it. */
  previousSystem: z.string().nullable(),
  /** The deployed system is in place but needs a reboot (kernel, initrd, or exit code 100). */
  rebootRequired: z.boolean(),
  /** The revision a pipeline release came from. */
  revisionId: z.string().nullable().default(null),
  /** Who approved it: a person, or `policy:auto`. */
  approvedBy: z.string().nullable().default(null),
  approvalComment: z.string().nullable().default(null),
  /** Why an approved deployment still waits (wave, soak, deploy window). */
  holdReason: z.string().nullable().default(null),
  /** A person skipped the waves, windows and quarantine, and why (`--force --reason`). */
  forced: z.boolean().default(false),
  forceReason: z.string().nullable().default(null),
});
export type Deployment = z.infer<typeof Deployment>;

/** `POST /api/v1/deployments/:id/cancel`: stop a deployment nothing was sent for yet. */
export const CancelDeploymentRequest = z
  .object({ reason: z.string().max(2000).optional() })
  .strict();
export type CancelDeploymentRequest = z.infer<typeof CancelDeploymentRequest>;

/**
 * `POST /api/v1/hosts/:name/rollback`: go back to the system last verified before the
 * current one (never to one a rollback left), or to a named generation.
 */
export const RollbackRequest = z
  .object({
    /** Generation number (see the host's facts); default: the last good system. */
    generation: z.number().int().nonnegative().optional(),
    comment: z.string().max(2000).optional(),
    ...ForceFields,
  })
  .strict()
  .refine(forceNeedsReason, { message: FORCE_REASON_MESSAGE, path: ['reason'] });
export type RollbackRequest = z.infer<typeof RollbackRequest>;

/** `POST /api/v1/hosts/:name/reboot`: the host's name typed out, so nobody reboots the wrong one. */
export const RebootHostRequest = z.object({ confirm: z.string().max(63) }).strict();
export type RebootHostRequest = z.infer<typeof RebootHostRequest>;

/** `POST /api/v1/hosts/:name/reboot` answer. */
export const RebootAnswer = z.object({ requestId: z.string(), host: z.string() });
export type RebootAnswer = z.infer<typeof RebootAnswer>;

export const DeploymentWithLog = Deployment.extend({
  log: z.array(LogLine),
  /** What it will change (or changed), as its host's agent prepared it before it ran. */
  plan: DeploymentPlan.nullable().default(null),
  /** When it first entered each phase its agent reported, in that order. */
  phases: z.array(z.object({ phase: DeployPhase, at: z.string() })).default([]),
});
export type DeploymentWithLog = z.infer<typeof DeploymentWithLog>;

export const DeploymentList = z.object({ deployments: z.array(Deployment) });
export type DeploymentList = z.infer<typeof DeploymentList>;

export const DeploymentListQuery = z.object({
  host: HostName.optional(),
  /** One status or several, comma-separated (`awaiting_approval,approved`). */
  status: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.split(',').filter(Boolean) : value),
      z.array(DeploymentStatus).max(12),
    )
    .optional(),
  revision: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type DeploymentListQuery = z.infer<typeof DeploymentListQuery>;

/**
 * Deploy either a release from the pipeline (`releaseId`) or any store path (`storePath`).
 * It counts as the caller's approval and passes the same gate as every deployment: a
 * waiting deployment of the same release is approved instead of adding a second one, and
 * waves and deploy windows hold it unless `force` (with a `reason`).
 */
export const CreateDeploymentRequest = z
  .object({
    host: HostName,
    storePath: SystemPath.optional(),
    releaseId: z.string().min(1).max(64).optional(),
    action: DeployAction.default('switch'),
    comment: z.string().max(2000).optional(),
    ...ForceFields,
  })
  .strict()
  .refine((r) => (r.storePath === undefined) !== (r.releaseId === undefined), {
    message: 'give exactly one of storePath or releaseId',
  })
  .refine(forceNeedsReason, { message: FORCE_REASON_MESSAGE, path: ['reason'] });

/** What a deploy, approval or rollback produced: the deployment and notes for people. */
export const DeploymentDecision = z.object({
  deployment: Deployment,
  /** E.g. "approved the deployment that waited for it", "this is a rollback". */
  notes: z.array(z.string()),
});
export type DeploymentDecision = z.infer<typeof DeploymentDecision>;
export type CreateDeploymentRequest = z.infer<typeof CreateDeploymentRequest>;

export const LogQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export type LogQuery = z.infer<typeof LogQuery>;

export const LogPage = z.object({
  lines: z.array(LogLine),
  /** Sequence number of the last line returned; pass as `after` for the next page. */
  last: z.number(),
  status: DeploymentStatus,
});
export type LogPage = z.infer<typeof LogPage>;

/** `GET /healthz`, public: what a load balancer needs, and nothing about the fleet or version. */
export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.enum(['ok', 'unavailable']),
});
export type Health = z.infer<typeof Health>;

/** `GET /api/v1/health`, for people and tools that may read the fleet. */
export const HealthDetails = Health.extend({
  version: z.string(),
  agentsConnected: z.number(),
});
export type HealthDetails = z.infer<typeof HealthDetails>;
