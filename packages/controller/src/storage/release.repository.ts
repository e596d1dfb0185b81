import type { ReleaseListQuery } from '@flotilla/protocol';
import type { Insertable } from 'kysely';
import type { Db } from './database.js';
import type { ReleasesTable } from './schema.js';

/** A release with the commit it was built from. */
export interface ReleaseView {
  id: string;
  host_name: string;
  revision_id: string;
  build_id: string;
  drv_path: string;
  store_path: string;
  closure_size: number | string | null;
  previous_release_id: string | null;
  status: ReleasesTable['status'];
  created_at: string;
  sha: string;
  message: string;
  author: string;
  committed_at: string;
}

/** All access to `releases`. */
export class ReleaseRepository {
  constructor(private readonly db: Db) {}

  private selectView() {
    return this.db
      .selectFrom('releases')
      .innerJoin('revisions', 'revisions.id', 'releases.revision_id')
      .selectAll('releases')
      .select(['revisions.sha', 'revisions.message', 'revisions.author', 'revisions.committed_at']);
  }

  async insert(row: Insertable<ReleasesTable>): Promise<void> {
    await this.db.insertInto('releases').values(row).execute();
  }

  async findById(id: string): Promise<ReleaseView | undefined> {
    return this.selectView().where('releases.id', '=', id).executeTakeFirst();
  }

  async findForHostRevision(host: string, revisionId: string): Promise<ReleaseView | undefined> {
    return this.selectView()
      .where('releases.host_name', '=', host)
      .where('releases.revision_id', '=', revisionId)
      .executeTakeFirst();
  }

  /** The host's newest release of this derivation, from whichever revision built it. */
  async latestForHostDrv(host: string, drvPath: string): Promise<ReleaseView | undefined> {
    return this.selectView()
      .where('releases.host_name', '=', host)
      .where('releases.drv_path', '=', drvPath)
      .orderBy('releases.created_at', 'desc')
      .orderBy('releases.id', 'desc')
      .executeTakeFirst();
  }

  async list(query: ReleaseListQuery): Promise<ReleaseView[]> {
    let q = this.selectView()
      .orderBy('releases.created_at', 'desc')
      .orderBy('releases.id', 'desc')
      .limit(query.limit);
    if (query.host) q = q.where('releases.host_name', '=', query.host);
    if (query.status) q = q.where('releases.status', '=', query.status);
    return q.execute();
  }

  /** The host's newest published release (any status but `publishing`). */
  async latestForHost(host: string): Promise<ReleaseView | undefined> {
    return this.selectView()
      .where('releases.host_name', '=', host)
      .where('releases.status', '!=', 'publishing')
      .orderBy('releases.created_at', 'desc')
      .orderBy('releases.id', 'desc')
      .executeTakeFirst();
  }

  /** Marks the host's older, never-deployed releases as superseded by `newest`. */
  async supersedeOlder(host: string, newestId: string): Promise<number> {
    const result = await this.db
      .updateTable('releases')
      .set({ status: 'superseded' })
      .where('host_name', '=', host)
      .where('status', '=', 'ready')
      .where('id', '!=', newestId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async setStatus(id: string, status: ReleasesTable['status']): Promise<void> {
    await this.db.updateTable('releases').set({ status }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('releases').where('id', '=', id).execute();
  }

  /** The host's releases whose system is one of `storePaths`, newest first. */
  async forStorePaths(host: string, storePaths: readonly string[]): Promise<ReleaseView[]> {
    if (storePaths.length === 0) return [];
    return this.selectView()
      .where('releases.host_name', '=', host)
      .where('releases.store_path', 'in', storePaths)
      .orderBy('releases.created_at', 'desc')
      .orderBy('releases.id', 'desc')
      .execute();
  }

  /** Releases of several hosts whose systems are what those hosts run (host → path). */
  async forRunningSystems(running: ReadonlyMap<string, string>): Promise<ReleaseView[]> {
    const paths = [...new Set(running.values())];
    if (paths.length === 0) return [];
    const rows = await this.selectView()
      .where('releases.store_path', 'in', paths)
      .orderBy('releases.created_at', 'desc')
      .orderBy('releases.id', 'desc')
      .execute();
    return rows.filter((r) => running.get(r.host_name) === r.store_path);
  }

  /** A deployed release stays deployed; a quarantined one stays quarantined. */
  async markDeployed(id: string): Promise<void> {
    await this.db
      .updateTable('releases')
      .set({ status: 'deployed' })
      .where('id', '=', id)
      .where('status', 'in', ['ready', 'superseded'])
      .execute();
  }
}
