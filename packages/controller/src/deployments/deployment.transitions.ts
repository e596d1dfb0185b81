import { canTransition, FlotillaError, type DeploymentStatus } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { LiveEvents } from '../events/event-bus.js';
import type { NotificationEvent, Notifier } from '../notifications/notification.service.js';
import type {
  DeploymentChanges,
  DeploymentRow,
  NewDeployment,
} from '../storage/deployment.repository.js';
import type { Store } from '../storage/store.js';
import { isUniqueViolation } from '../storage/atomically.js';
import { appendDeploymentLog, controllerNote } from './deployment-log.js';

/** The audit entry written with a move: kind (e.g. `approval.approved`), who, and details. */
export interface AuditEntry {
  kind: string;
  actor: string;
  data?: Record<string, unknown>;
}

/** One move of a deployment and everything that is written with it. */
export interface Move {
  to: DeploymentStatus;
  changes?: DeploymentChanges;
  /** A line in the deployment's own log (prefixed `[controller]`). */
  note?: string;
  audit?: AuditEntry;
  notify?: NotificationEvent;
}

export interface DeploymentTransitionsOptions {
  notifier: Notifier;
  live: LiveEvents;
  clock: Clock;
  /**
   * Called in the same transaction after each creation and move is recorded (activation
   * plans follow their deployment's status this way).
   */
  onRecorded?: (tx: Store, row: DeploymentRow, created: boolean) => Promise<void>;
}

/**
 * Moves deployments through the state machine of `@flotilla/protocol` (deployment-state.ts).
 * Each move, its log line, its audit entry and its notification are written with the
 * transaction's `Store`, so they commit together, and are live events once it committed
 * (`deployment.changed`, its host in `hosts.changed`, its rollout, the approvals inbox
 * when the move enters or leaves `awaiting_approval`); a move the state machine does not allow
 * is a bug and throws, a move that lost a race (another writer moved the deployment first)
 * returns undefined.
 */
export class DeploymentTransitions {
  constructor(private readonly options: DeploymentTransitionsOptions) {}

  /**
   * Moves `row` from the status it was read in to `move.to` (an update without a move when
   * they are equal). Returns the stored row, or undefined when the row had moved meanwhile.
   */
  async apply(tx: Store, row: DeploymentRow, move: Move): Promise<DeploymentRow | undefined> {
    if (move.to !== row.status && !canTransition(row.status, move.to)) {
      throw new Error(`deployment ${row.id} cannot move from ${row.status} to ${move.to}`);
    }
    const moved = await tx.deployments.move(row.id, row.status, move.to, move.changes ?? {});
    if (!moved) return undefined;
    await this.record(tx, moved, move, row.status);
    return moved;
  }

  /**
   * Records a new deployment with its first log line, audit entry and notification. A
   * second waiting or in-flight deployment for the host is refused by the database's
   * unique indexes: `deployment_in_progress`.
   */
  async create(
    tx: Store,
    row: NewDeployment,
    extra: Omit<Move, 'to' | 'changes'>,
  ): Promise<DeploymentRow> {
    try {
      await tx.deployments.insert(row);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new FlotillaError(
        'deployment_in_progress',
        `host "${row.host_name}" already has a deployment ${row.status === 'queued' || row.status === 'activating' ? 'running' : 'waiting'}; try again once it ends`,
      );
    }
    const created = await tx.deployments.findById(row.id);
    if (!created) throw new Error(`deployment ${row.id} vanished after insert`);
    await this.record(tx, created, { to: created.status, ...extra }, null);
    return created;
  }

  private async record(
    tx: Store,
    row: DeploymentRow,
    move: Move,
    from: DeploymentStatus | null,
  ): Promise<void> {
    const at = this.options.clock.now().toISOString();
    this.publish(tx, row, from);
    if (move.note !== undefined) {
      await appendDeploymentLog(tx, this.options.live, row.id, [controllerNote(at, move.note)]);
    }
    if (move.audit) {
      await tx.events.append([
        {
          at,
          kind: move.audit.kind,
          actor: move.audit.actor,
          hostName: row.host_name,
          deploymentId: row.id,
          data: { status: row.status, ...move.audit.data },
        },
      ]);
    }
    if (move.notify) await this.options.notifier.queue(tx, move.notify);
    await this.options.onRecorded?.(tx, row, from === null);
  }

  /** The live events of a created or moved deployment, sent once `tx` committed. */
  private publish(tx: Store, row: DeploymentRow, from: DeploymentStatus | null): void {
    const { live } = this.options;
    live.publish(
      { type: 'deployment.changed', id: row.id, host: row.host_name, status: row.status },
      tx,
    );
    live.publish({ type: 'hosts.changed', names: [row.host_name] }, tx);
    if (row.revision_id !== null)
      live.publish({ type: 'rollout.changed', id: row.revision_id }, tx);
    if (from !== row.status && (from === 'awaiting_approval' || row.status === 'awaiting_approval'))
      live.publish({ type: 'approvals.changed' }, tx);
  }
}
