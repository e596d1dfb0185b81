import {
  FlotillaError,
  type CreateDeploymentRequest,
  type DeploymentDecision,
  type RollbackRequest,
} from '@flotilla/protocol';
import { toDeployment } from '../deployments/deployment.verdict.js';
import type { DeploymentRunner } from '../deployments/deployment-runner.js';
import type { Store } from '../storage/store.js';
import type { DeploymentGate, GateResult, Intent } from './deployment.gate.js';
import type { RolloutService } from './rollout.service.js';

export interface DeployCommandsOptions {
  store: Store;
  gate: DeploymentGate;
  rollout: Pick<RolloutService, 'tick'>;
  runner: Pick<DeploymentRunner, 'dispatchPending'>;
}

/**
 * A person's `deploy` and `rollback`: each is one decision through the gate, in one
 * transaction, then the rollout's gates run at once, so the answer says whether it was
 * queued or why it waits.
 */
export class DeployCommands {
  constructor(private readonly options: DeployCommandsOptions) {}

  async deploy(request: CreateDeploymentRequest, actor: string): Promise<DeploymentDecision> {
    const { store, gate } = this.options;
    const result = await store.transaction(async (tx) => {
      const target =
        request.releaseId !== undefined
          ? { kind: 'release' as const, release: await this.requireRelease(tx, request.releaseId) }
          : { kind: 'path' as const, storePath: request.storePath ?? '' };
      return gate.deploy(
        tx,
        { host: request.host, target, action: request.action },
        intentOf(actor, request),
      );
    });
    return this.settle(result);
  }

  async rollback(
    host: string,
    request: RollbackRequest,
    actor: string,
  ): Promise<DeploymentDecision> {
    const { store, gate } = this.options;
    const result = await store.transaction((tx) =>
      gate.rollback(tx, host, { generation: request.generation }, intentOf(actor, request)),
    );
    return this.settle(result);
  }

  private async settle(result: GateResult): Promise<DeploymentDecision> {
    const { store, rollout, runner } = this.options;
    await rollout.tick();
    await runner.dispatchPending(result.row.host_name);
    const row = (await store.deployments.findById(result.row.id)) ?? result.row;
    return { deployment: toDeployment(row), notes: result.notes };
  }

  private async requireRelease(tx: Store, id: string) {
    const release = await tx.releases.findById(id);
    if (!release) throw new FlotillaError('release_not_found', `no release with id "${id}"`);
    return release;
  }
}

function intentOf(
  actor: string,
  request: { comment?: string | undefined; force: boolean; reason?: string | undefined },
): Intent {
  return {
    actor,
    comment: request.comment ?? null,
    force: request.force ? { reason: request.reason ?? '' } : null,
  };
}
