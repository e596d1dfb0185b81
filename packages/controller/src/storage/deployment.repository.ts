import type { LogStream } from '@flotilla/protocol';
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { DeploymentsTable } from './schema.js';

export type DeploymentRow = Selectable<DeploymentsTable>;
export type DeploymentChanges = Updateable<DeploymentsTable>;

export interface LogLineInput {
  at: string;
  stream: LogStream;
  line: string;
}

/** All access to `deployments` and `deployment_logs`. */
export class DeploymentRepository {
  constructor(private readonly db: Db) {}

  async insert(row: Insertable<DeploymentsTable>): Promise<void> {
    await this.db.insertInto('deployments').values(row).execute();
  }

  /** A new `switch` deployment of a pipeline release (waiting for approval, or approved). */
  async insertForRelease(input: {
    id: string;
    release: { id: string; host_name: string; store_path: string; revision_id: string };
    status: 'awaiting_approval' | 'approved';
    actor: string;
    at: string;
    approvedBy?: string;
  }): Promise<void> {
    const { release } = input;
    await this.insert({
      id: input.id,
      host_name: release.host_name,
      store_path: release.store_path,
      release_id: release.id,
      revision_id: release.revision_id,
      action: 'switch',
      status: input.status,
      phase: null,
      actor: input.actor,
      created_at: input.at,
      started_at: null,
      finished_at: null,
      exit_code: null,
      error_code: null,
      error_message: null,
      result_system: null,
      approved_by: input.approvedBy ?? null,
      approved_at: input.approvedBy ? input.at : null,
    });
  }

  async findById(id: string): Promise<DeploymentRow | undefined> {
    return this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(limit: number, hostName?: string): Promise<DeploymentRow[]> {
    let query = this.db
      .selectFrom('deployments')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (hostName !== undefined) query = query.where('host_name', '=', hostName);
    return query.execute();
  }

  /** Deployments of a host that have not reached a final status, oldest first. */
  async findActiveForHost(hostName: string, statuses: readonly string[]): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('host_name', '=', hostName)
      .where('status', 'in', statuses)
      .orderBy('created_at')
      .execute();
  }

  /**
   * Updates a deployment only while it is in one of `fromStatuses`, so that a late or
   * repeated message can never move a finished deployment. Returns whether it changed.
   */
  async transition(
    id: string,
    fromStatuses: readonly string[],
    changes: DeploymentChanges,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('deployments')
      .set(changes)
      .where('id', '=', id)
      .where('status', 'in', fromStatuses)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deployments in any of `statuses`, oldest first. */
  async withStatus(statuses: readonly string[]): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('status', 'in', statuses)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /** A revision's deployments, newest first. */
  async forRevision(revisionId: string): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('revision_id', '=', revisionId)
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** The host's newest deployment in any of `statuses`. */
  async latestForHost(
    host: string,
    statuses: readonly string[],
  ): Promise<DeploymentRow | undefined> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('host_name', '=', host)
      .where('status', 'in', statuses)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  /** Deployments queued before `before` (ISO time), oldest first. */
  async queuedBefore(before: string): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('status', '=', 'queued')
      .where('created_at', '<', before)
      .orderBy('created_at')
      .execute();
  }

  async setPhase(id: string, phase: string): Promise<void> {
    await this.db.updateTable('deployments').set({ phase }).where('id', '=', id).execute();
  }

  async lastLogSeq(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('deployment_logs')
      .select((eb) => eb.fn.max<number | null>('seq').as('last'))
      .where('deployment_id', '=', id)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  }

  async appendLog(id: string, firstSeq: number, lines: readonly LogLineInput[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db
      .insertInto('deployment_logs')
      .values(
        lines.map((l, i) => ({
          deployment_id: id,
          seq: firstSeq + i,
          at: l.at,
          stream: l.stream,
          line: l.line,
        })),
      )
      .execute();
  }

  async readLog(id: string, after: number, limit: number) {
    return this.db
      .selectFrom('deployment_logs')
      .select(['seq', 'at', 'stream', 'line'])
      .where('deployment_id', '=', id)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }
}
