import * as z from 'zod';
import { FORCE_REASON_MESSAGE, ForceFields, forceNeedsReason } from './force.js';
import { DeploymentStatus } from './deployment-state.js';
import { HostMode } from './facts.js';
import { HostName } from './messages.js';
import { DeploymentPlan } from './plan.js';

/** Bodies of the human-in-the-loop API: policies, approvals, waves, graduation, windows, audit. */

/**
 * `manual`: each release waits for approval; `auto`: deploys when built; `monitor`: never
 * (the host's mode is `monitor`: setting this policy makes it so, and a monitor host shows it).
 */
export const Policy = z.enum(['manual', 'auto', 'monitor']);
export type Policy = z.infer<typeof Policy>;

export const HostPolicy = z.object({
  host: z.string(),
  mode: HostMode,
  policy: Policy,
  /** `config` policies are locked: the API refuses to change them. */
  source: z.enum(['default', 'api', 'config']),
  locked: z.boolean(),
  /** Since when the host has had no failed deployment or rollback. */
  stableSince: z.string().nullable(),
  pinned: z.boolean(),
  pinReason: z.string().nullable(),
  wave: z.string().nullable(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type HostPolicy = z.infer<typeof HostPolicy>;

export const HostPolicyList = z.object({ policies: z.array(HostPolicy) });
export type HostPolicyList = z.infer<typeof HostPolicyList>;

/** Setting `auto` needs the graduation criteria met, or `force` with a reason. */
export const SetPolicyRequest = z
  .object({ policy: Policy, ...ForceFields })
  .strict()
  .refine(forceNeedsReason, { message: FORCE_REASON_MESSAGE, path: ['reason'] });
export type SetPolicyRequest = z.infer<typeof SetPolicyRequest>;

export const PinRequest = z.object({ reason: z.string().max(2000).optional() }).strict();
export type PinRequest = z.infer<typeof PinRequest>;

/** A deployment waiting for a human, with what it would change. */
export const PendingApproval = z.object({
  deploymentId: z.string(),
  host: z.string(),
  status: DeploymentStatus,
  releaseId: z.string().nullable(),
  storePath: z.string(),
  revisionId: z.string().nullable(),
  sha: z.string().nullable(),
  commitMessage: z.string().nullable(),
  wave: z.string().nullable(),
  createdAt: z.string(),
  approvedBy: z.string().nullable(),
  holdReason: z.string().nullable(),
  /** The host runs a newer release: approving this is a rollback. */
  isRollback: z.boolean(),
  quarantined: z.boolean(),
  /** The revision's rollout is halted: approving is refused until it is resumed. */
  halted: z.boolean(),
  haltReason: z.string().nullable(),
  /**
   * What approving it will change on the host: the closure difference against what it runs
   * and what activation will do, prepared by its agent ahead (see `DeploymentPlan`).
   */
  plan: DeploymentPlan.nullable().default(null),
});
export type PendingApproval = z.infer<typeof PendingApproval>;

export const PendingApprovalList = z.object({ approvals: z.array(PendingApproval) });
export type PendingApprovalList = z.infer<typeof PendingApprovalList>;

/**
 * `POST /api/v1/approvals`: approve or reject releases — one deployment, or in bulk every
 * waiting deployment of a revision, optionally limited to hosts or a wave.
 */
export const DecisionRequest = z
  .object({
    decision: z.enum(['approve', 'reject']),
    deploymentId: z.string().max(64).optional(),
    /** Approve a release by id (also one that is superseded, with allowSuperseded). */
    releaseId: z.string().max(64).optional(),
    revisionId: z.string().max(64).optional(),
    hosts: z.array(HostName).max(1000).optional(),
    wave: z.string().max(100).optional(),
    comment: z.string().max(2000).optional(),
    /** Approve a release that a newer one superseded. */
    allowSuperseded: z.boolean().default(false),
    ...ForceFields,
  })
  .strict()
  .refine(
    (r) => [r.deploymentId, r.releaseId, r.revisionId].filter((v) => v !== undefined).length === 1,
    {
      message: 'give exactly one of deploymentId, releaseId or revisionId',
    },
  )
  .refine(forceNeedsReason, { message: FORCE_REASON_MESSAGE, path: ['reason'] });
export type DecisionRequest = z.infer<typeof DecisionRequest>;

export const DecisionResult = z.object({
  decided: z.array(
    z.object({
      deploymentId: z.string(),
      host: z.string(),
      status: DeploymentStatus,
      /** Approved but held: why (wave, soak, window, another deployment). */
      holdReason: z.string().nullable(),
      /** E.g. "this is a rollback: the host runs a newer release". */
      notes: z.array(z.string()),
    }),
  ),
});
export type DecisionResult = z.infer<typeof DecisionResult>;

/** A host that must be on `auto` before this one graduates, and how far it is. */
export const GraduationPrerequisiteStatus = z.object({
  host: z.string(),
  /** Days it must have run on `auto` without trouble; null: being on `auto` is enough. */
  requiredDays: z.number().nullable(),
  /** Days it has run on `auto` since its last failed deployment or rollback; null off `auto`. */
  stableDays: z.number().nullable(),
  met: z.boolean(),
});
export type GraduationPrerequisiteStatus = z.infer<typeof GraduationPrerequisiteStatus>;

export const GraduationStatus = z.object({
  host: z.string(),
  policy: Policy,
  stableSince: z.string().nullable(),
  stableDays: z.number().nullable(),
  requiredDays: z.number().nullable(),
  /** Hosts that must be on `auto` first, some for a number of stable days. */
  after: z.array(GraduationPrerequisiteStatus),
  eligible: z.boolean(),
  /** What is still missing, in words. */
  reasons: z.array(z.string()),
});
export type GraduationStatus = z.infer<typeof GraduationStatus>;

export const GraduationList = z.object({ hosts: z.array(GraduationStatus) });
export type GraduationList = z.infer<typeof GraduationList>;

export const WaveStatus = z.object({
  name: z.string(),
  hosts: z.array(z.string()),
  soakSeconds: z.number(),
});
export type WaveStatus = z.infer<typeof WaveStatus>;

export const WaveList = z.object({ waves: z.array(WaveStatus) });
export type WaveList = z.infer<typeof WaveList>;

/** One allow-window of the config file, as written there (local times in `timeZone`). */
export const DeployWindowView = z.object({
  /** Weekdays it starts on (`mon`…`sun`); absent for every day. */
  days: z.array(z.string()).optional(),
  start: z.string(),
  end: z.string(),
  timeZone: z.string(),
});
export type DeployWindowView = z.infer<typeof DeployWindowView>;

/** The deploy windows a host or a wave declares, and where they stand now. */
export const DeployWindowsEntry = z.object({
  scope: z.enum(['host', 'wave']),
  name: z.string(),
  windows: z.array(DeployWindowView),
  /** The windows in words, e.g. `mon–fri 02:00–04:00 Europe/Vienna`. */
  description: z.string(),
  /** Whether one of them is open now. */
  open: z.boolean(),
  /** When one opens next (now when open); null when none opens within 8 days. */
  nextOpen: z.string().nullable(),
});
export type DeployWindowsEntry = z.infer<typeof DeployWindowsEntry>;

/** `GET /api/v1/windows`: every host and wave with windows; all others deploy any time. */
export const DeployWindowList = z.object({ windows: z.array(DeployWindowsEntry) });
export type DeployWindowList = z.infer<typeof DeployWindowList>;

/** One host in a revision's rollout. */
export const RolloutHost = z.object({
  host: z.string(),
  /**
   * `changed`: the revision gives the host a new system; `unchanged`: its system is the same
   * as before; `failed`: it did not evaluate; `not_in_flake`; `pending`: not evaluated yet.
   */
  change: z.enum(['changed', 'unchanged', 'failed', 'not_in_flake', 'pending']),
  deploymentId: z.string().nullable(),
  status: DeploymentStatus.nullable(),
  holdReason: z.string().nullable(),
});
export type RolloutHost = z.infer<typeof RolloutHost>;

/** `POST /api/v1/rollouts/:id/resume`: lift a halt; held deployments move on. */
export const ResumeRolloutRequest = z.object({ reason: z.string().min(1).max(2000) }).strict();
export type ResumeRolloutRequest = z.infer<typeof ResumeRolloutRequest>;

/** The state of one revision's rollout through the waves. */
export const Rollout = z.object({
  revisionId: z.string(),
  sha: z.string(),
  halted: z.boolean(),
  haltReason: z.string().nullable(),
  haltedAt: z.string().nullable(),
  waves: z.array(
    z.object({
      name: z.string(),
      state: z.enum(['waiting', 'deploying', 'soaking', 'done', 'halted']),
      soakUntil: z.string().nullable(),
      hosts: z.array(RolloutHost),
    }),
  ),
});
export type Rollout = z.infer<typeof Rollout>;

export const AuditEntry = z.object({
  id: z.number(),
  at: z.string(),
  kind: z.string(),
  actor: z.string(),
  host: z.string().nullable(),
  deploymentId: z.string().nullable(),
  data: z.unknown().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditList = z.object({
  entries: z.array(AuditEntry),
  nextCursor: z.number().nullable(),
});
export type AuditList = z.infer<typeof AuditList>;

/** An instant in a query: ISO 8601 with a zone, read as UTC (`2026-03-01T14:05:09+01:00`). */
const QueryInstant = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString());

export const AuditQuery = z
  .object({
    host: HostName.optional(),
    kind: z.string().max(100).optional(),
    /** Part of the actor (`admin`, `policy:auto`), any case. */
    actor: z.string().min(1).max(200).optional(),
    /** Entries at or after this instant. */
    since: QueryInstant.optional(),
    /** Entries at or before this instant. */
    until: QueryInstant.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since <= q.until, {
    message: '`since` must not be after `until`',
    path: ['since'],
  });
export type AuditQuery = z.infer<typeof AuditQuery>;
