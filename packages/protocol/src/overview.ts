import * as z from 'zod';
import { Host } from './api.js';
import { DeploymentStatus } from './deployment-state.js';
import { Policy } from './policy.js';

/** One host as the fleet overview shows it: the host with its rules and deployments. */
export const OverviewHost = z.object({
  /** Status, facts, metrics and the running revision against the branch head. */
  host: Host,
  policy: Policy,
  pinned: z.boolean(),
  pinReason: z.string().nullable(),
  wave: z.string().nullable(),
  /** Progress towards `auto`; null for monitor hosts. */
  graduation: z
    .object({
      stableDays: z.number().nullable(),
      requiredDays: z.number().nullable(),
      eligible: z.boolean(),
    })
    .nullable(),
  /** Deployments of this host that wait for a human. */
  pendingApprovals: z.array(
    z.object({
      deploymentId: z.string(),
      releaseId: z.string().nullable(),
      revisionId: z.string().nullable(),
      sha: z.string().nullable(),
    }),
  ),
  /** A deployment that has not ended (waiting, held, queued or running). */
  openDeployment: z
    .object({ id: z.string(), status: DeploymentStatus, holdReason: z.string().nullable() })
    .nullable(),
  /** The newest deployment that ran to an end. */
  lastDeployment: z
    .object({
      id: z.string(),
      kind: z.enum(['deploy', 'rollback']),
      status: DeploymentStatus,
      finishedAt: z.string().nullable(),
      error: z.string().nullable(),
    })
    .nullable(),
});
export type OverviewHost = z.infer<typeof OverviewHost>;

/** `GET /api/v1/overview`: every host in one answer, for the web UI's fleet view. */
export const FleetOverview = z.object({
  hosts: z.array(OverviewHost),
  /** The branch head the `sync` of each host compares with; null before the first sync. */
  headSha: z.string().nullable(),
  generatedAt: z.string(),
});
export type FleetOverview = z.infer<typeof FleetOverview>;
