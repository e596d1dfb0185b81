import {
  FlotillaError,
  type Release,
  type ReleaseList,
  type ReleaseListQuery,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { ReleasePublisher } from '../cache/cache.publisher.js';
import type { Clock } from '@flotilla/runtime';
import type { LiveEvents } from '../events/event-bus.js';
import type { BuildRow } from '../storage/build.repository.js';
import type { ReleaseView } from '../storage/release.repository.js';
import type { Store } from '../storage/store.js';
import { newId } from '../support/tokens.js';

export interface ReleaseServiceOptions {
  store: Store;
  publisher: ReleasePublisher;
  /** Told about releases made, dropped or ready (`releases.changed`). */
  live: LiveEvents;
  clock: Clock;
  logger: Logger;
  /**
   * Called inside the transaction that makes a release ready: the policies decide what
   * happens next, and it commits with the release or not at all.
   */
  onReady?: (tx: Store, release: ReleaseView) => Promise<void>;
  /** Called after that transaction committed (the rollout's gates run). */
  afterReady?: (release: ReleaseView) => Promise<void>;
}

/**
 * Releases: one per host and revision whose system was built. A release becomes `ready`
 * only once its closure is signed and in the cache; a newer one supersedes the host's
 * older releases that were never deployed.
 */
export class ReleaseService {
  constructor(private readonly options: ReleaseServiceOptions) {}

  /** Makes (once) the release of a succeeded build of `kind: release`. */
  async createFromBuild(
    build: BuildRow,
    revisionId = build.revision_id,
  ): Promise<ReleaseView | undefined> {
    const { store, publisher, live, clock, logger } = this.options;
    const { releases, events } = store;
    const changed = { type: 'releases.changed', revision: revisionId } as const;
    if (!build.out_path) throw new Error(`build ${build.id} has no output`);
    const existing = await releases.findForHostRevision(build.host_name, revisionId);
    if (existing && existing.status !== 'publishing') return existing;
    const previous = await releases.latestForHost(build.host_name);
    const now = clock.now();
    const id = existing?.id ?? newId('r', now);
    if (!existing) {
      await releases.insert({
        id,
        host_name: build.host_name,
        revision_id: revisionId,
        build_id: build.id,
        drv_path: build.drv_path,
        store_path: build.out_path,
        closure_size: build.closure_size,
        previous_release_id: previous?.id ?? null,
        status: 'publishing',
        created_at: now.toISOString(),
      });
      live.publish(changed);
    }
    try {
      await publisher.publish({
        releaseId: id,
        hostName: build.host_name,
        storePath: build.out_path,
      });
    } catch (error) {
      // Without its closure in the cache the release could not be fetched: drop it and say why.
      await releases.delete(id);
      live.publish(changed);
      const message = error instanceof Error ? error.message : String(error);
      logger.error(
        { host: build.host_name, buildId: build.id, err: message },
        'publishing a release failed',
      );
      await events.append([
        {
          at: clock.now().toISOString(),
          kind: 'release.publish_failed',
          actor: 'pipeline',
          hostName: build.host_name,
          data: { buildId: build.id, error: message },
        },
      ]);
      return undefined;
    }
    const outPath = build.out_path;
    // Ready, the older undeployed releases superseded, the audit entry and the policy's
    // decision (a deployment waiting for approval, or approved by auto): all or nothing.
    const ready = await store.transaction(async (tx) => {
      await tx.releases.setStatus(id, 'ready');
      live.publish(changed, tx);
      const superseded = await tx.releases.supersedeOlder(build.host_name, id);
      await tx.events.append([
        {
          at: clock.now().toISOString(),
          kind: 'release.created',
          actor: 'pipeline',
          hostName: build.host_name,
          data: { releaseId: id, storePath: outPath, superseded },
        },
      ]);
      const row = await tx.releases.findById(id);
      if (row) await this.options.onReady?.(tx, row);
      return row;
    });
    logger.info({ host: build.host_name, releaseId: id, storePath: outPath }, 'release ready');
    if (ready) await this.options.afterReady?.(ready);
    return ready;
  }

  async list(query: ReleaseListQuery): Promise<ReleaseList> {
    return { releases: (await this.options.store.releases.list(query)).map(toRelease) };
  }

  async get(id: string): Promise<Release> {
    return toRelease(await this.require(id));
  }

  async require(id: string): Promise<ReleaseView> {
    const release = await this.options.store.releases.findById(id);
    if (!release) throw new FlotillaError('release_not_found', `no release with id "${id}"`);
    return release;
  }
}

export function toRelease(row: ReleaseView): Release {
  return {
    id: row.id,
    host: row.host_name,
    revisionId: row.revision_id,
    sha: row.sha,
    commitMessage: row.message,
    commitAuthor: row.author,
    committedAt: row.committed_at,
    buildId: row.build_id,
    drvPath: row.drv_path,
    storePath: row.store_path,
    closureSize: row.closure_size === null ? null : Number(row.closure_size),
    previousReleaseId: row.previous_release_id,
    status: row.status,
    createdAt: row.created_at,
  };
}
