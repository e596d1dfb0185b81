import type { DeploymentStatus, LogStream } from '@flotilla/protocol';
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { atomically } from './atomically.js';
import type { Db } from './database.js';
import type { DeploymentsTable } from './schema.js';

export type DeploymentRow = Selectable<DeploymentsTable>;
export type NewDeployment = Insertable<DeploymentsTable>;
export type DeploymentChanges = Omit<Updateable<DeploymentsTable>, 'id' | 'status' | 'log_seq'>;

export interface LogLineInput {
  at: string;
  stream: LogStream;
  line: string;
}

/** What one append stored: the sequence numbers given out, and how many lines were kept. */
export interface AppendedLog {
  firstSeq: number;
  lastSeq: number;
}

/** All access to `deployments` and `deployment_logs`. Status moves go through the state machine in deployment.transitions.ts. */
export class DeploymentRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a deployment; a second waiting or in-flight deployment of a host violates a unique index. */
  async insert(row: NewDeployment): Promise<void> {
    await this.db.insertInto('deployments').values(row).execute();
  }

  async findById(id: string): Promise<DeploymentRow | undefined> {
    return this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(query: {
    limit: number;
    host?: string | undefined;
    statuses?: readonly DeploymentStatus[] | undefined;
    revisionId?: string | undefined;
    before?: string | undefined;
  }): Promise<DeploymentRow[]> {
    let select = this.db
      .selectFrom('deployments')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit);
    if (query.host !== undefined) select = select.where('host_name', '=', query.host);
    if (query.statuses !== undefined && query.statuses.length > 0)
      select = select.where('status', 'in', query.statuses);
    if (query.revisionId !== undefined) select = select.where('revision_id', '=', query.revisionId);
    if (query.before !== undefined) select = select.where('id', '<', query.before);
    return select.execute();
  }

  /** Deployments of a host in any of `statuses`, oldest first. */
  async forHost(hostName: string, statuses: readonly DeploymentStatus[]): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('host_name', '=', hostName)
      .where('status', 'in', statuses)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /**
   * Moves a deployment from status `from` to `to` (which may equal `from` for an update
   * without a move), only while it is still in `from`: a late or repeated message can never
   * move a deployment that another writer moved first. Returns the updated row, or undefined
   * when it was no longer in `from`.
   */
  async move(
    id: string,
    from: DeploymentStatus,
    to: DeploymentStatus,
    changes: DeploymentChanges,
  ): Promise<DeploymentRow | undefined> {
    const result = await this.db
      .updateTable('deployments')
      .set({ ...changes, status: to })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.findById(id);
  }

  /** Deployments in any of `statuses`, oldest first. */
  async withStatus(statuses: readonly DeploymentStatus[]): Promise<DeploymentRow[]> {
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
      .orderBy('id', 'desc')
      .execute();
  }

  /** The newest deployment of each of these releases. */
  async latestOfReleases(releaseIds: readonly string[]): Promise<Map<string, DeploymentRow>> {
    const latest = new Map<string, DeploymentRow>();
    if (releaseIds.length === 0) return latest;
    const rows = await this.db
      .selectFrom('deployments')
      .selectAll()
      .where('release_id', 'in', [...releaseIds])
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    for (const row of rows) {
      if (row.release_id !== null && !latest.has(row.release_id)) latest.set(row.release_id, row);
    }
    return latest;
  }

  /** The host's newest deployment in any of `statuses`. */
  async latestForHost(
    host: string,
    statuses: readonly DeploymentStatus[],
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

  /** Succeeded deployments of a host, newest first: what the host was verified to run. */
  async succeededForHost(host: string, limit: number): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('host_name', '=', host)
      .where('status', '=', 'succeeded')
      .orderBy('finished_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** For each of `hosts`, the systems a deployment was verified to put there. */
  async succeededSystemsOf(hosts: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    if (hosts.length === 0) return out;
    const rows = await this.db
      .selectFrom('deployments')
      .select(['host_name', 'store_path'])
      .distinct()
      .where('host_name', 'in', hosts)
      .where('status', '=', 'succeeded')
      .execute();
    for (const row of rows) {
      let set = out.get(row.host_name);
      if (!set) out.set(row.host_name, (set = new Set()));
      set.add(row.store_path);
    }
    return out;
  }

  /** For each of `hosts`, its newest deployment that ran to an end (succeeded, failed, rolled back). */
  async latestEndedOf(hosts: readonly string[]): Promise<Map<string, DeploymentRow>> {
    const out = new Map<string, DeploymentRow>();
    if (hosts.length === 0) return out;
    const ended = ['succeeded', 'failed', 'rolled_back'] as const;
    const rows = await this.db
      .selectFrom('deployments as d')
      .selectAll('d')
      .where('d.host_name', 'in', hosts)
      .where('d.status', 'in', ended)
      .where((eb) =>
        eb(
          'd.finished_at',
          '=',
          eb
            .selectFrom('deployments as e')
            .select((e) => e.fn.max('e.finished_at').as('last'))
            .whereRef('e.host_name', '=', 'd.host_name')
            .where('e.status', 'in', ended),
        ),
      )
      .execute();
    for (const row of rows) {
      const seen = out.get(row.host_name);
      if (!seen || row.id > seen.id) out.set(row.host_name, row);
    }
    return out;
  }

  /** Succeeded manual rollbacks of a host: each names the system it moved away from. */
  async rollbacksOfHost(host: string): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('host_name', '=', host)
      .where('kind', '=', 'rollback')
      .where('status', '=', 'succeeded')
      .execute();
  }

  /** Queued deployments created before `before` (ISO time), oldest first. */
  async queuedBefore(before: string): Promise<DeploymentRow[]> {
    return this.db
      .selectFrom('deployments')
      .selectAll()
      .where('status', '=', 'queued')
      .where('created_at', '<', before)
      .orderBy('created_at')
      .execute();
  }

  /**
   * Records the agent's phase, and when the deployment first entered it; never touches a
   * deployment that has ended. Two statements: call it in a transaction.
   */
  async setPhase(
    id: string,
    phase: string,
    open: readonly DeploymentStatus[],
    at: string,
  ): Promise<void> {
    const result = await this.db
      .updateTable('deployments')
      .set({ phase })
      .where('id', '=', id)
      .where('status', 'in', open)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return;
    await this.db
      .insertInto('deployment_phases')
      .values({ deployment_id: id, phase, at })
      .onConflict((c) => c.columns(['deployment_id', 'phase']).doNothing())
      .execute();
  }

  /** The phases a deployment went through, in the order it entered them. */
  async phases(id: string): Promise<{ phase: string; at: string }[]> {
    return this.db
      .selectFrom('deployment_phases')
      .select(['phase', 'at'])
      .where('deployment_id', '=', id)
      .orderBy('at')
      .execute();
  }

  /**
   * Appends log lines with sequence numbers that cannot collide: the numbers are reserved
   * by incrementing the deployment's own counter (a row lock on PostgreSQL, the single
   * writer on SQLite), and the lines are inserted in the same transaction. `keep` decides,
   * from the reserved range, which of the lines are stored (the cap of deployment-log.ts).
   */
  async appendLog(
    id: string,
    lines: readonly LogLineInput[],
    keep: (firstSeq: number, lines: readonly LogLineInput[]) => LogLineInput[] = (_, l) => [...l],
  ): Promise<AppendedLog | undefined> {
    if (lines.length === 0) return undefined;
    return atomically(this.db, async (trx) => {
      const reserved = await trx
        .updateTable('deployments')
        .set({ log_seq: sql<number>`log_seq + ${lines.length}` })
        .where('id', '=', id)
        .returning('log_seq')
        .executeTakeFirst();
      if (!reserved) return undefined;
      const lastSeq = Number(reserved.log_seq);
      const firstSeq = lastSeq - lines.length + 1;
      const kept = keep(firstSeq, lines);
      if (kept.length > 0) {
        await trx
          .insertInto('deployment_logs')
          .values(
            kept.map((l, i) => ({
              deployment_id: id,
              seq: firstSeq + i,
              at: l.at,
              stream: l.stream,
              line: l.line,
            })),
          )
          .execute();
      }
      return { firstSeq, lastSeq };
    });
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

  /** Deletes a host's deployments (with their logs): used when a host is removed. */
  async deleteForHost(host: string): Promise<number> {
    const result = await this.db
      .deleteFrom('deployments')
      .where('host_name', '=', host)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
