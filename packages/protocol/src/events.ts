import * as z from 'zod';
import { LogLine } from './api.js';
import { DeploymentStatus } from './deployment-state.js';
import { HostName } from './messages.js';
import { BuildStatus } from './pipeline.js';

/**
 * The live events of `GET /api/v1/events` (server-sent events): each tells a client that
 * something it may show changed, so it refetches that (or, for log lines, appends them).
 * The SSE `event:` name is the `type`, repeated in the JSON `data`; the SSE `id:` is a
 * sequence per controller process. Nothing is replayed: a client that (re)connects gets
 * `ready` first and refetches what it shows.
 */

/** Always the first event. A `controllerId` other than the last one seen means a restart. */
export const ReadyEvent = z.object({
  type: z.literal('ready'),
  /** Random per controller start. */
  controllerId: z.string(),
  at: z.string(),
});
export type ReadyEvent = z.infer<typeof ReadyEvent>;

/**
 * Hosts whose presence (online, offline, last seen), facts, metrics, policy, pin, mode,
 * enrollment or status changed; at most one such event per second, naming every host
 * that changed in that second.
 */
export const HostsChangedEvent = z.object({
  type: z.literal('hosts.changed'),
  names: z.array(HostName),
});
export type HostsChangedEvent = z.infer<typeof HostsChangedEvent>;

/** A deployment was created or moved (status, phase or hold reason). */
export const DeploymentChangedEvent = z.object({
  type: z.literal('deployment.changed'),
  id: z.string(),
  host: HostName,
  status: DeploymentStatus,
});
export type DeploymentChangedEvent = z.infer<typeof DeploymentChangedEvent>;

/** A line of a deployment's log, sent once it is stored (same fields as `LogLine`). */
export const DeploymentLogEvent = LogLine.extend({
  type: z.literal('deployment.log'),
  deploymentId: z.string(),
});
export type DeploymentLogEvent = z.infer<typeof DeploymentLogEvent>;

/** A build was queued, started or ended. */
export const BuildChangedEvent = z.object({
  type: z.literal('build.changed'),
  id: z.string(),
  status: BuildStatus,
});
export type BuildChangedEvent = z.infer<typeof BuildChangedEvent>;

/** The approvals inbox changed: an approval was asked for, decided or expired. */
export const ApprovalsChangedEvent = z.object({ type: z.literal('approvals.changed') });
export type ApprovalsChangedEvent = z.infer<typeof ApprovalsChangedEvent>;

/** Releases changed; `revision` is the revision they belong to, when there is one. */
export const ReleasesChangedEvent = z.object({
  type: z.literal('releases.changed'),
  revision: z.string().nullable(),
});
export type ReleasesChangedEvent = z.infer<typeof ReleasesChangedEvent>;

/** A revision's rollout changed (`id` is the revision's id): a wave moved, a halt, a resume. */
export const RolloutChangedEvent = z.object({
  type: z.literal('rollout.changed'),
  id: z.string(),
});
export type RolloutChangedEvent = z.infer<typeof RolloutChangedEvent>;

/** The repository changed: a sync ran, a branch head or revision is new, an evaluation ended. */
export const RepositoryChangedEvent = z.object({ type: z.literal('repository.changed') });
export type RepositoryChangedEvent = z.infer<typeof RepositoryChangedEvent>;

/**
 * A web editor's draft was made, saved, checked, rebased, committed, discarded or opened
 * again after a failed push. Names no draft: each client refetches its own (drafts are
 * their owner's alone).
 */
export const DraftsChangedEvent = z.object({ type: z.literal('drafts.changed') });
export type DraftsChangedEvent = z.infer<typeof DraftsChangedEvent>;

/** One live event, by its `type`. */
export const LiveEvent = z.discriminatedUnion('type', [
  ReadyEvent,
  HostsChangedEvent,
  DeploymentChangedEvent,
  DeploymentLogEvent,
  BuildChangedEvent,
  ApprovalsChangedEvent,
  ReleasesChangedEvent,
  RolloutChangedEvent,
  RepositoryChangedEvent,
  DraftsChangedEvent,
]);
export type LiveEvent = z.infer<typeof LiveEvent>;
export type LiveEventType = LiveEvent['type'];

/** Each event type's schema, by the SSE event name (for the contract and the OpenAPI document). */
export const LIVE_EVENT_SCHEMAS = {
  ready: ReadyEvent,
  'hosts.changed': HostsChangedEvent,
  'deployment.changed': DeploymentChangedEvent,
  'deployment.log': DeploymentLogEvent,
  'build.changed': BuildChangedEvent,
  'approvals.changed': ApprovalsChangedEvent,
  'releases.changed': ReleasesChangedEvent,
  'rollout.changed': RolloutChangedEvent,
  'repository.changed': RepositoryChangedEvent,
  'drafts.changed': DraftsChangedEvent,
} as const satisfies { [T in LiveEventType]: z.ZodType<Extract<LiveEvent, { type: T }>> };

/** The comment line the stream sends this often (ms) so proxies keep an idle stream open. */
export const LIVE_EVENTS_KEEPALIVE_MS = 25_000;

/** How long (ms) a browser waits before reconnecting, sent once as the stream's `retry:`. */
export const LIVE_EVENTS_RETRY_MS = 2000;
