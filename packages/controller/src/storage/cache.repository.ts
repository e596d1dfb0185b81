import { atomically } from './atomically.js';
import type { Db } from './database.js';

/** One store path of a published closure and the NAR file holding it. */
export interface CachedPath {
  /** The 32-character hash part of the store path. */
  storeHash: string;
  /** File name in the cache's `nar/` directory. */
  narFile: string;
}

/** Rows per insert: well under SQLite's and PostgreSQL's limits on bound parameters. */
const BATCH = 300;

/** The binary cache's index: which NAR holds which path, and which host may read which. */
export class CacheRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a release's closure in one transaction. Publishing the same release again
   * changes nothing (conflicting rows are skipped). The release row must exist.
   */
  async recordRelease(
    releaseId: string,
    hostName: string,
    paths: readonly CachedPath[],
  ): Promise<void> {
    await atomically(this.db, async (trx) => {
      for (let start = 0; start < paths.length; start += BATCH) {
        const batch = paths.slice(start, start + BATCH);
        await trx
          .insertInto('cache_nars')
          .values(batch.map((p) => ({ nar_file: p.narFile, store_hash: p.storeHash })))
          .onConflict((oc) => oc.doNothing())
          .execute();
        await trx
          .insertInto('release_paths')
          .values(
            batch.map((p) => ({
              release_id: releaseId,
              host_name: hostName,
              store_hash: p.storeHash,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    });
  }

  /** Whether a path is in the closure of one of the host's releases (index release_paths_host_hash). */
  async hostMayReadPath(hostName: string, storeHash: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('release_paths')
      .select('store_hash')
      .where('host_name', '=', hostName)
      .where('store_hash', '=', storeHash)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Whether a NAR file holds a path the host may read: the primary key of cache_nars finds
   * the file's paths, release_paths_host_hash then checks each against the host.
   */
  async hostMayReadNar(hostName: string, narFile: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('cache_nars')
      .innerJoin('release_paths', 'release_paths.store_hash', 'cache_nars.store_hash')
      .select('cache_nars.store_hash')
      .where('cache_nars.nar_file', '=', narFile)
      .where('release_paths.host_name', '=', hostName)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
