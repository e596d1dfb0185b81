import type { BuildKind, BuildListQuery } from '@flotilla/protocol';
import type { Insertable, Selectable, Updateable } from 'kysely';
import { atomically } from './atomically.js';
import type { Db } from './database.js';
import type { BuildsTable } from './schema.js';

export type BuildRow = Selectable<BuildsTable>;
export type BuildStatusValue = BuildsTable['status'];

/** All access to `builds` and `build_logs`. */
export class BuildRepository {
  constructor(private readonly db: Db) {}

  async insert(row: Insertable<BuildsTable>): Promise<void> {
    await this.db.insertInto('builds').values(row).execute();
  }

  async findById(id: string): Promise<BuildRow | undefined> {
    return this.db.selectFrom('builds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(query: BuildListQuery): Promise<BuildRow[]> {
    let q = this.db
      .selectFrom('builds')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.host) q = q.where('host_name', '=', query.host);
    if (query.revision) q = q.where('revision_id', '=', query.revision);
    return q.execute();
  }

  /** The oldest queued builds, in the order they were requested. */
  async nextQueued(limit: number): Promise<BuildRow[]> {
    return this.db
      .selectFrom('builds')
      .selectAll()
      .where('status', '=', 'queued')
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async forRevision(revisionId: string): Promise<BuildRow[]> {
    return this.db
      .selectFrom('builds')
      .selectAll()
      .where('revision_id', '=', revisionId)
      .orderBy('created_at')
      .execute();
  }

  /** A finished, successful build of this exact derivation, if any: its output can be reused. */
  async succeededForDrv(drvPath: string): Promise<BuildRow | undefined> {
    return this.db
      .selectFrom('builds')
      .selectAll()
      .where('drv_path', '=', drvPath)
      .where('status', '=', 'succeeded')
      .orderBy('finished_at', 'desc')
      .executeTakeFirst();
  }

  /** The newest build of this kind for this host and derivation, whatever its status. */
  async latestForHostDrv(
    host: string,
    drvPath: string,
    kind: BuildKind,
  ): Promise<BuildRow | undefined> {
    return this.db
      .selectFrom('builds')
      .selectAll()
      .where('host_name', '=', host)
      .where('drv_path', '=', drvPath)
      .where('kind', '=', kind)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  /** Moves a build only while it is in one of `from`; returns whether it moved. */
  async transition(
    id: string,
    from: readonly BuildStatusValue[],
    changes: Updateable<BuildsTable>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('builds')
      .set(changes)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Builds that were running when the controller stopped; they are queued again. */
  async requeueRunning(): Promise<BuildRow[]> {
    const running = await this.db
      .selectFrom('builds')
      .selectAll()
      .where('status', '=', 'running')
      .execute();
    if (running.length > 0) {
      await this.db
        .updateTable('builds')
        .set({ status: 'queued', started_at: null })
        .where('status', '=', 'running')
        .execute();
    }
    return running;
  }

  async lastLogSeq(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('build_logs')
      .select((eb) => eb.fn.max<number | null>('seq').as('last'))
      .where('build_id', '=', id)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  }

  /** Appends lines and adds their size to the build's log counters, in one transaction. */
  async appendLog(
    id: string,
    firstSeq: number,
    lines: readonly { at: string; line: string }[],
    bytes: number,
    truncated: boolean,
  ): Promise<void> {
    if (lines.length === 0) return;
    await atomically(this.db, async (trx) => {
      await trx
        .insertInto('build_logs')
        .values(lines.map((l, i) => ({ build_id: id, seq: firstSeq + i, at: l.at, line: l.line })))
        .execute();
      await trx
        .updateTable('builds')
        .set((eb) => ({
          log_bytes: eb('log_bytes', '+', bytes),
          ...(truncated ? { log_truncated: 1 } : {}),
        }))
        .where('id', '=', id)
        .execute();
    });
  }

  async readLog(id: string, after: number, limit: number) {
    return this.db
      .selectFrom('build_logs')
      .select(['seq', 'at', 'line'])
      .where('build_id', '=', id)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }
}
