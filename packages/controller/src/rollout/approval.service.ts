import {
  FlotillaError,
  WAITING_DEPLOYMENT_STATUSES,
  type DecisionRequest,
  type DecisionResult,
  type PendingApproval,
  type PendingApprovalList,
} from '@flotilla/protocol';
import { planView } from '../plans/plan.view.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { PlanRow } from '../storage/plan.repository.js';
import type { ReleaseView } from '../storage/release.repository.js';
import type { Store } from '../storage/store.js';
import type { DeploymentGate, GateResult, Intent } from './deployment.gate.js';
import type { RolloutService } from './rollout.service.js';
import { waveOf, type RolloutConfig } from './waves.js';

export interface ApprovalServiceOptions {
  store: Store;
  gate: DeploymentGate;
  rollout: Pick<RolloutService, 'tick'>;
  config: RolloutConfig;
}

/**
 * Humans approve or reject releases: one deployment, a release, or a revision's waiting
 * deployments in bulk (for some hosts or a wave). A bulk decision is all or nothing: every
 * deployment is checked first and one refusal refuses the whole decision (the answer says
 * which host and why), then all moves are written in one transaction.
 */
export class ApprovalService {
  constructor(private readonly options: ApprovalServiceOptions) {}

  async pending(): Promise<PendingApprovalList> {
    const { store } = this.options;
    const rows = await store.deployments.withStatus(['awaiting_approval']);
    const plans = await store.plans.forDeployments(rows.map((row) => row.id));
    return {
      approvals: await Promise.all(rows.map((row) => this.describe(row, plans.get(row.id)))),
    };
  }

  async decide(request: DecisionRequest, actor: string): Promise<DecisionResult> {
    const { store, gate } = this.options;
    const intent: Intent = {
      actor,
      comment: request.comment ?? null,
      force: request.force ? { reason: request.reason ?? '' } : null,
    };
    const results = await store.transaction(async (tx) => {
      const targets = await this.targets(tx, request, actor);
      if (targets.length === 0)
        throw new FlotillaError('nothing_to_approve', 'no deployment waits for approval there');
      const decided: GateResult[] = [];
      const refused: { host: string; deploymentId: string; code: string; message: string }[] = [];
      for (const row of targets) {
        try {
          decided.push(
            request.decision === 'reject'
              ? await gate.reject(tx, row, intent)
              : await gate.approve(tx, row, intent),
          );
        } catch (error) {
          if (!(error instanceof FlotillaError)) throw error;
          if (targets.length === 1) throw error;
          refused.push({
            host: row.host_name,
            deploymentId: row.id,
            code: error.code,
            message: error.message,
          });
        }
      }
      if (refused.length > 0) {
        // Throwing rolls the transaction back: nothing of this decision is kept.
        const first = refused[0];
        throw new FlotillaError(
          (first?.code as FlotillaError['code'] | undefined) ?? 'approval_not_allowed',
          `nothing was decided: ${refused.length} of ${targets.length} deployments were refused (${refused
            .map((r) => `${r.host}: ${r.message}`)
            .join('; ')})`,
          { refused },
        );
      }
      return decided;
    });
    await this.options.rollout.tick();
    const decided = await Promise.all(
      results.map(async ({ row, notes }) => {
        const now = (await store.deployments.findById(row.id)) ?? row;
        return {
          deploymentId: now.id,
          host: now.host_name,
          status: now.status,
          holdReason: now.hold_reason,
          notes,
        };
      }),
    );
    return { decided };
  }

  /** Deployments a decision applies to; a superseded release gets a new deployment. */
  private async targets(
    tx: Store,
    request: DecisionRequest,
    actor: string,
  ): Promise<DeploymentRow[]> {
    if (request.deploymentId !== undefined) {
      const row = await tx.deployments.findById(request.deploymentId);
      if (!row)
        throw new FlotillaError(
          'deployment_not_found',
          `no deployment with id "${request.deploymentId}"`,
        );
      return [row];
    }
    const waiting = await tx.deployments.withStatus(WAITING_DEPLOYMENT_STATUSES);
    if (request.releaseId !== undefined) {
      const release = await tx.releases.findById(request.releaseId);
      if (!release)
        throw new FlotillaError('release_not_found', `no release with id "${request.releaseId}"`);
      const row = waiting.find((d) => d.release_id === release.id);
      if (row) return [row];
      return [await this.revive(tx, release, request, actor)];
    }
    if (
      request.wave !== undefined &&
      !this.options.config.rollout.waves.some((w) => w.name === request.wave)
    ) {
      throw new FlotillaError('validation_failed', `no wave named "${request.wave}"`);
    }
    // Approving again only matters to force held deployments on; rejecting stops them too.
    const again = request.decision === 'reject' || request.force;
    return waiting.filter((d) => {
      if (d.revision_id !== request.revisionId) return false;
      if (d.status === 'approved' && !again) return false;
      if (request.hosts && !request.hosts.includes(d.host_name)) return false;
      if (
        request.wave !== undefined &&
        waveOf(this.options.config, d.host_name)?.wave.name !== request.wave
      )
        return false;
      return true;
    });
  }

  /**
   * A release with no deployment waiting for it (superseded, or rolled back and not offered
   * again): approving it goes through the same gate as a `deploy` of it; a superseded one
   * needs the explicit flag.
   */
  private async revive(
    tx: Store,
    release: ReleaseView,
    request: DecisionRequest,
    actor: string,
  ): Promise<DeploymentRow> {
    if (release.status === 'superseded' && !request.allowSuperseded) {
      throw new FlotillaError(
        'approval_not_allowed',
        `release ${release.id} is superseded: a newer release replaced it; approve it with allowSuperseded`,
        { releaseId: release.id },
      );
    }
    if (request.decision === 'reject')
      throw new FlotillaError('nothing_to_approve', `release ${release.id} waits for nothing`);
    const { row } = await this.options.gate.deploy(
      tx,
      { host: release.host_name, target: { kind: 'release', release }, action: 'switch' },
      {
        actor,
        comment: request.comment ?? null,
        force: request.force ? { reason: request.reason ?? '' } : null,
      },
    );
    return row;
  }

  private async describe(row: DeploymentRow, plan: PlanRow | undefined): Promise<PendingApproval> {
    const { store, config } = this.options;
    const release = row.release_id ? await store.releases.findById(row.release_id) : undefined;
    const halt = row.revision_id ? await store.policies.haltOf(row.revision_id) : undefined;
    const last = await store.deployments.latestForHost(row.host_name, ['succeeded']);
    const running = last?.release_id ? await store.releases.findById(last.release_id) : undefined;
    return {
      deploymentId: row.id,
      host: row.host_name,
      status: row.status,
      releaseId: row.release_id,
      storePath: row.store_path,
      revisionId: row.revision_id,
      sha: release?.sha ?? null,
      commitMessage: release?.message ?? null,
      wave: waveOf(config, row.host_name)?.wave.name ?? null,
      createdAt: row.created_at,
      approvedBy: row.approved_by,
      holdReason: row.hold_reason,
      isRollback:
        release !== undefined &&
        running !== undefined &&
        running.id !== release.id &&
        release.created_at < running.created_at,
      quarantined: release?.status === 'quarantined',
      halted: halt !== undefined,
      haltReason: halt?.reason ?? null,
      plan: planView(row, plan),
    };
  }
}
