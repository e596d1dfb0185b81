import {
  FlotillaError,
  type DecisionRequest,
  type DecisionResult,
  type PendingApproval,
  type PendingApprovalList,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { DeploymentRepository, DeploymentRow } from '../storage/deployment.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { PolicyRepository } from '../storage/policy.repository.js';
import type { ReleaseRepository, ReleaseView } from '../storage/release.repository.js';
import { newId } from '../support/tokens.js';
import type { DeploymentLog } from '../deployments/deployment-log.js';
import type { PolicyService } from './policy.service.js';
import type { RolloutService } from './rollout.service.js';

export interface ApprovalServiceOptions {
  deployments: DeploymentRepository;
  releases: ReleaseRepository;
  policyRows: PolicyRepository;
  policies: PolicyService;
  rollout: RolloutService;
  events: EventRepository;
  log: DeploymentLog;
  clock: Clock;
}

/**
 * Humans approve or reject releases: one, or a revision's in bulk (for some hosts or a
 * wave). Approving an older release than the host runs is a rollback and pins the host;
 * superseded and quarantined releases need an explicit flag. Who, when and why is recorded.
 */
export class ApprovalService {
  constructor(private readonly options: ApprovalServiceOptions) {}

  async pending(): Promise<PendingApprovalList> {
    const rows = await this.options.deployments.withStatus(['awaiting_approval']);
    return { approvals: await Promise.all(rows.map((row) => this.describe(row))) };
  }

  async decide(request: DecisionRequest, actor: string): Promise<DecisionResult> {
    const targets = await this.targets(request);
    if (targets.length === 0)
      throw new FlotillaError('nothing_to_approve', 'no deployment waits for approval there');
    const decided: DecisionResult['decided'] = [];
    for (const row of targets) decided.push(await this.decideOne(row, request, actor));
    await this.options.rollout.tick();
    return { decided };
  }

  private async decideOne(
    row: DeploymentRow,
    request: DecisionRequest,
    actor: string,
  ): Promise<DecisionResult['decided'][number]> {
    const { deployments, events, log, clock, policies, policyRows } = this.options;
    const now = clock.now().toISOString();
    const notes: string[] = [];
    const comment = request.comment ?? null;
    if (request.decision === 'reject') {
      await deployments.transition(row.id, ['awaiting_approval', 'approved'], {
        status: 'rejected',
        finished_at: now,
        approved_by: actor,
        approved_at: now,
        approval_comment: comment,
      });
      await log.note(row.id, now, `rejected by ${actor}${comment ? `: ${comment}` : ''}`);
      await events.append([
        {
          at: now,
          kind: 'approval.rejected',
          actor,
          hostName: row.host_name,
          deploymentId: row.id,
          data: { releaseId: row.release_id, comment },
        },
      ]);
      return { deploymentId: row.id, host: row.host_name, status: 'rejected', notes };
    }
    if (row.release_id && (await policyRows.isQuarantined(row.release_id))) {
      if (!request.allowQuarantined) {
        throw new FlotillaError(
          'approval_not_allowed',
          `release ${row.release_id} was rolled back on ${row.host_name} (quarantined); approve it again with allowQuarantined`,
        );
      }
      notes.push('this release was rolled back before (quarantined); approved explicitly');
    }
    const rollback = await this.isRollback(row);
    if (rollback) notes.push(`this is a rollback: ${row.host_name} runs a newer release`);
    if (request.overrideWindow) notes.push('approved to run outside the deploy window');
    const changed = await deployments.transition(row.id, ['awaiting_approval', 'approved'], {
      status: 'approved',
      approved_by: actor,
      approved_at: now,
      approval_comment: comment,
      override_window: request.overrideWindow ? 1 : 0,
      ...(rollback ? { kind: 'rollback' as const } : {}),
    });
    if (!changed)
      throw new FlotillaError(
        'approval_not_allowed',
        `deployment ${row.id} is ${row.status}, not waiting for approval`,
      );
    await log.note(
      row.id,
      now,
      [`approved by ${actor}${comment ? `: ${comment}` : ''}`, ...notes].join('; '),
    );
    await events.append([
      {
        at: now,
        kind: 'approval.approved',
        actor,
        hostName: row.host_name,
        deploymentId: row.id,
        data: {
          releaseId: row.release_id,
          comment,
          rollback,
          overrideWindow: request.overrideWindow,
        },
      },
    ]);
    if (rollback)
      await policies.pin(
        row.host_name,
        actor,
        `approved an older release (${row.release_id ?? row.store_path})`,
      );
    return { deploymentId: row.id, host: row.host_name, status: 'approved', notes };
  }

  /** Deployments a decision applies to; a superseded release gets a new deployment. */
  private async targets(request: DecisionRequest): Promise<DeploymentRow[]> {
    const { deployments, releases } = this.options;
    const waiting = await deployments.withStatus(['awaiting_approval']);
    if (request.deploymentId !== undefined) {
      const row = await deployments.findById(request.deploymentId);
      if (!row)
        throw new FlotillaError(
          'deployment_not_found',
          `no deployment with id "${request.deploymentId}"`,
        );
      // An approved deployment held by its window can be rejected, or approved again to
      // run outside the window.
      const held =
        row.status === 'approved' && (request.decision === 'reject' || request.overrideWindow);
      if (row.status !== 'awaiting_approval' && !held) {
        throw new FlotillaError(
          'approval_not_allowed',
          `deployment ${row.id} is ${row.status}, not waiting for approval`,
        );
      }
      return [row];
    }
    if (request.releaseId !== undefined) {
      const release = await releases.findById(request.releaseId);
      if (!release)
        throw new FlotillaError('release_not_found', `no release with id "${request.releaseId}"`);
      const row = waiting.find((d) => d.release_id === release.id);
      if (row) return [row];
      return [await this.reviveSuperseded(release, request)];
    }
    const wave = request.wave === undefined ? undefined : this.options.policies;
    return waiting.filter((d) => {
      if (d.revision_id !== request.revisionId) return false;
      if (request.hosts && !request.hosts.includes(d.host_name)) return false;
      if (request.wave !== undefined && wave?.waveOf(d.host_name)?.name !== request.wave)
        return false;
      return true;
    });
  }

  /**
   * A release with no deployment waiting for it (superseded, or rolled back and not offered
   * again): a new deployment awaits the decision; a superseded one needs the explicit flag.
   */
  private async reviveSuperseded(
    release: ReleaseView,
    request: DecisionRequest,
  ): Promise<DeploymentRow> {
    const { deployments, clock } = this.options;
    if (release.status === 'superseded' && !request.allowSuperseded) {
      throw new FlotillaError(
        'approval_not_allowed',
        `release ${release.id} is ${release.status}: a newer release replaced it; approve it with allowSuperseded`,
      );
    }
    if (request.decision === 'reject')
      throw new FlotillaError('nothing_to_approve', `release ${release.id} waits for nothing`);
    for (const newer of await deployments.findActiveForHost(release.host_name, [
      'awaiting_approval',
      'approved',
    ])) {
      await deployments.transition(newer.id, ['awaiting_approval', 'approved'], {
        status: 'superseded',
        finished_at: clock.now().toISOString(),
      });
    }
    const id = newId('d', clock.now());
    await deployments.insertForRelease({
      id,
      release,
      status: 'awaiting_approval',
      actor: 'approval',
      at: clock.now().toISOString(),
    });
    const row = await deployments.findById(id);
    if (!row) throw new Error('deployment vanished after insert');
    return row;
  }

  /** True when the host's last successful release is newer than this deployment's. */
  private async isRollback(row: DeploymentRow): Promise<boolean> {
    if (!row.release_id) return false;
    const { deployments, releases } = this.options;
    const last = await deployments.latestForHost(row.host_name, ['succeeded']);
    if (!last?.release_id || last.release_id === row.release_id) return false;
    const [mine, running] = await Promise.all([
      releases.findById(row.release_id),
      releases.findById(last.release_id),
    ]);
    return mine !== undefined && running !== undefined && mine.created_at < running.created_at;
  }

  private async describe(row: DeploymentRow): Promise<PendingApproval> {
    const release = row.release_id
      ? await this.options.releases.findById(row.release_id)
      : undefined;
    return {
      deploymentId: row.id,
      host: row.host_name,
      releaseId: row.release_id,
      storePath: row.store_path,
      revisionId: row.revision_id,
      sha: release?.sha ?? null,
      commitMessage: release?.message ?? null,
      wave: this.options.policies.waveOf(row.host_name)?.name ?? null,
      createdAt: row.created_at,
      isRollback: await this.isRollback(row),
      quarantined: row.release_id
        ? await this.options.policyRows.isQuarantined(row.release_id)
        : false,
    };
  }
}
