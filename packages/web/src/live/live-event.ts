import { DeploymentStatus, LogStream } from '@flotilla/protocol';
import { z } from 'zod';

/**
 * The events of `GET /api/v1/events` (the live-event contract of the web UI), parsed at
 * this end like every answer. Kept here until the protocol exports its `LiveEvent`; the
 * shapes are the contract's, field for field.
 */
export const LiveEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), controllerId: z.string(), at: z.string() }),
  z.object({ type: z.literal('hosts.changed'), names: z.array(z.string()) }),
  z.object({
    type: z.literal('deployment.changed'),
    id: z.string(),
    host: z.string(),
    status: DeploymentStatus,
  }),
  z.object({
    type: z.literal('deployment.log'),
    deploymentId: z.string(),
    seq: z.number(),
    at: z.string(),
    stream: LogStream,
    line: z.string(),
  }),
  z.object({ type: z.literal('build.changed'), id: z.string(), status: z.string() }),
  z.object({ type: z.literal('approvals.changed') }),
  z.object({ type: z.literal('releases.changed'), revision: z.string().nullable() }),
  z.object({ type: z.literal('rollout.changed'), id: z.string() }),
  z.object({ type: z.literal('repository.changed') }),
  z.object({ type: z.literal('drafts.changed') }),
]);
export type LiveEvent = z.infer<typeof LiveEvent>;

/** Every event type, for subscribing to each by name on the EventSource. */
export const LIVE_EVENT_TYPES = LiveEvent.options.map((option) => option.shape.type.value);
