import * as z from 'zod';

/**
 * The one deployment state machine. Every status a deployment can have, and every move
 * between them, is declared here; the controller refuses any other move, and clients read
 * the same definitions.
 *
 * ```
 * awaiting_approval ──approve──► approved ──gates open──► queued ──sent──► activating ──► confirming
 *        │                          │                       │                 │               │
 *        └── rejected, superseded, cancelled ───────────────┘                 └── succeeded, failed, rolled_back
 * ```
 */
export const DeploymentStatus = z.enum([
  'awaiting_approval',
  'approved',
  'queued',
  'activating',
  'confirming',
  'succeeded',
  'failed',
  'rolled_back',
  'rejected',
  'superseded',
  'cancelled',
  'expired',
]);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

/** Where each status may go next. A final status goes nowhere. */
export const DEPLOYMENT_TRANSITIONS: Readonly<
  Record<DeploymentStatus, readonly DeploymentStatus[]>
> = {
  // A human (or `auto`) decides; a newer release or a cancel ends it undecided.
  awaiting_approval: ['approved', 'rejected', 'superseded', 'cancelled'],
  // Waits for its wave, soak and window; then it is queued for the agent.
  approved: ['queued', 'rejected', 'superseded', 'cancelled'],
  // Waits for the agent; a host that stays away too long expires it. An agent may report a
  // result before the controller saw it sent (a restart between send and record).
  queued: ['activating', 'cancelled', 'expired', 'succeeded', 'failed', 'rolled_back'],
  // Sent: back to queued when the agent never received it (found on reconnect).
  activating: ['confirming', 'queued', 'succeeded', 'failed', 'rolled_back'],
  confirming: ['queued', 'succeeded', 'failed', 'rolled_back'],
  succeeded: [],
  failed: [],
  rolled_back: [],
  rejected: [],
  superseded: [],
  cancelled: [],
  expired: [],
};

/** Statuses after which a deployment never changes again. */
export const FINAL_DEPLOYMENT_STATUSES: ReadonlySet<DeploymentStatus> = new Set(
  DeploymentStatus.options.filter((status) => DEPLOYMENT_TRANSITIONS[status].length === 0),
);

/** Waiting for a human or for the rollout's gates; at most one per host. */
export const WAITING_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'awaiting_approval',
  'approved',
];

/** Queued for or running on the agent; at most one per host. */
export const IN_FLIGHT_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'queued',
  'activating',
  'confirming',
];

/** Sent to the agent and not finished. */
export const SENT_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['activating', 'confirming'];

/** Not final: waiting or in flight. */
export const OPEN_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  ...WAITING_DEPLOYMENT_STATUSES,
  ...IN_FLIGHT_DEPLOYMENT_STATUSES,
];

/** Statuses that can still be cancelled by a person (nothing was sent to the agent yet). */
export const CANCELLABLE_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'awaiting_approval',
  'approved',
  'queued',
];

/** Whether the state machine allows moving from `from` to `to`. */
export function canTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return DEPLOYMENT_TRANSITIONS[from].includes(to);
}

/** Ended without the system changing because of trouble on the host. */
export const TROUBLE_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['failed', 'rolled_back'];
