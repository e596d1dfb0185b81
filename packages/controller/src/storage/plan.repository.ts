import type { PlanState } from '@flotilla/protocol';
import type { Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { ActivationPlansTable } from './schema.js';

export type PlanRow = Selectable<ActivationPlansTable>;

/** What a plan row may be changed to (its deployment, host and path stay). */
export type PlanChanges = Omit<
  Updateable<ActivationPlansTable>,
  'deployment_id' | 'host_name' | 'store_path'
>;

/** The `activation_plans` table: one plan per deployment, as its host's agent prepared it. */
export class PlanRepository {
  constructor(private readonly db: Db) {}

  /** Records a deployment's plan unless it has one; true when this call recorded it. */
  async insertIfAbsent(row: {
    deploymentId: string;
    host: string;
    storePath: string;
    state: PlanState;
    code: string | null;
    reason: string | null;
    at: string;
  }): Promise<boolean> {
    const result = await this.db
      .insertInto('activation_plans')
      .values({
        deployment_id: row.deploymentId,
        host_name: row.host,
        store_path: row.storePath,
        state: row.state,
        code: row.code,
        reason: row.reason,
        plan_json: null,
        base_system: null,
        requested_at: null,
        updated_at: row.at,
      })
      .onConflict((conflict) => conflict.column('deployment_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async find(deploymentId: string): Promise<PlanRow | undefined> {
    return this.db
      .selectFrom('activation_plans')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirst();
  }

  /** The plans of these deployments, by deployment id (one query for a list of them). */
  async forDeployments(ids: readonly string[]): Promise<Map<string, PlanRow>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('activation_plans')
      .selectAll()
      .where('deployment_id', 'in', [...ids])
      .execute();
    return new Map(rows.map((row) => [row.deployment_id, row]));
  }

  /**
   * Changes a plan; only while it is in one of `where.states`, and with `where.unasked` only
   * while its agent was never asked (so nothing overwrites what happened meanwhile). True
   * when a row changed.
   */
  async update(
    deploymentId: string,
    changes: PlanChanges,
    where: { states?: readonly PlanState[]; unasked?: boolean } = {},
  ): Promise<boolean> {
    let query = this.db
      .updateTable('activation_plans')
      .set(changes)
      .where('deployment_id', '=', deploymentId);
    if (where.states !== undefined) query = query.where('state', 'in', [...where.states]);
    if (where.unasked === true) query = query.where('requested_at', 'is', null);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Notes that the agent was asked (once more). */
  async asked(deploymentId: string, at: string): Promise<void> {
    await this.db
      .updateTable('activation_plans')
      .set((eb) => ({
        state: 'pending',
        code: null,
        reason: 'the agent is preparing it',
        requested_at: at,
        updated_at: at,
        attempts: eb('attempts', '+', 1),
      }))
      .where('deployment_id', '=', deploymentId)
      .execute();
  }
}
