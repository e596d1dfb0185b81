import {
  CANCELLABLE_DEPLOYMENT_STATUSES,
  DeployPhase,
  FlotillaError,
  type CancelDeploymentRequest,
  type Deployment,
  type DeploymentPlan,
  type DeploymentList,
  type DeploymentListQuery,
  type DeploymentWithLog,
  type LogPage,
  type LogQuery,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import { planView } from '../plans/plan.view.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { Store } from '../storage/store.js';
import { MAX_LOG_LINES } from './deployment-log.js';
import type { DeploymentTransitions } from './deployment.transitions.js';
import { toDeployment } from './deployment.verdict.js';

export interface DeploymentServiceOptions {
  store: Store;
  transitions: DeploymentTransitions;
  clock: Clock;
}

/**
 * The API-facing side of deployments that needs no rollout rules: reading them, their
 * logs, and cancelling one that was not sent yet. Starting one goes through the rollout's
 * gate (rollout/deployment.gate.ts), the one way every deployment starts.
 */
export class DeploymentService {
  constructor(private readonly options: DeploymentServiceOptions) {}

  async get(id: string): Promise<DeploymentWithLog> {
    const { store } = this.options;
    const row = await this.require(id);
    const lines = await store.deployments.readLog(id, 0, MAX_LOG_LINES + 1);
    const phases = (await store.deployments.phases(id)).map((p) => ({
      phase: DeployPhase.parse(p.phase),
      at: p.at,
    }));
    return {
      ...toDeployment(row),
      log: lines,
      plan: planView(row, await store.plans.find(id)),
      phases,
    };
  }

  /** What the deployment will change (or changed), as its host's agent prepared it. */
  async plan(id: string): Promise<DeploymentPlan> {
    const row = await this.require(id);
    return planView(row, await this.options.store.plans.find(id));
  }

  async list(query: DeploymentListQuery): Promise<DeploymentList> {
    const rows = await this.options.store.deployments.list({
      limit: query.limit,
      host: query.host,
      statuses: query.status,
      revisionId: query.revision,
    });
    return { deployments: rows.map(toDeployment) };
  }

  async readLog(id: string, query: LogQuery): Promise<LogPage> {
    const row = await this.require(id);
    const lines = await this.options.store.deployments.readLog(id, query.after, query.limit);
    return { lines, last: lines.at(-1)?.seq ?? query.after, status: row.status };
  }

  /**
   * Cancels a deployment nothing was sent for yet (waiting for approval, approved and held,
   * or queued for an offline host). One that runs on the host cannot be cancelled: the
   * agent owns it until it succeeds or rolls back.
   */
  async cancel(id: string, request: CancelDeploymentRequest, actor: string): Promise<Deployment> {
    const { store, transitions, clock } = this.options;
    const row = await this.require(id);
    if (!CANCELLABLE_DEPLOYMENT_STATUSES.includes(row.status)) {
      throw new FlotillaError(
        'deployment_not_cancellable',
        `deployment ${id} is ${row.status}: ${
          row.status === 'activating' || row.status === 'confirming'
            ? 'it runs on the host, which finishes it or rolls it back by itself'
            : 'it has ended'
        }`,
      );
    }
    const now = clock.now().toISOString();
    const reason = request.reason ?? null;
    const moved = await store.transaction((tx) =>
      transitions.apply(tx, row, {
        to: 'cancelled',
        changes: { finished_at: now, hold_reason: null, error_message: reason },
        note: `cancelled by ${actor}${reason ? `: ${reason}` : ''}`,
        audit: { kind: 'deployment.cancelled', actor, data: { reason } },
      }),
    );
    if (!moved) {
      throw new FlotillaError(
        'deployment_not_cancellable',
        `deployment ${id} changed while it was being cancelled; look at it again`,
      );
    }
    return toDeployment(moved);
  }

  async require(id: string): Promise<DeploymentRow> {
    const row = await this.options.store.deployments.findById(id);
    if (!row) throw new FlotillaError('deployment_not_found', `no deployment with id "${id}"`);
    return row;
  }
}
