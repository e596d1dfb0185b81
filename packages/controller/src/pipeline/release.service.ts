import {
  FlotillaError,
  type Release,
  type ReleaseList,
  type ReleaseListQuery,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { ReleasePublisher } from '../cache/cache.publisher.js';
import type { Clock } from '@flotilla/runtime';
import type { BuildRow } from '../storage/build.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { ReleaseRepository, ReleaseView } from '../storage/release.repository.js';
import { newId } from '../support/tokens.js';

export interface ReleaseServiceOptions {
  releases: ReleaseRepository;
  events: EventRepository;
  publisher: ReleasePublisher;
  clock: Clock;
  logger: Logger;
  /** Called once a release is ready to deploy (policies decide what happens next). */
  onReady?: (release: ReleaseView) => Promise<void>;
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
    const { releases, events, publisher, clock, logger } = this.options;
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
    await releases.setStatus(id, 'ready');
    const superseded = await releases.supersedeOlder(build.host_name, id);
    await events.append([
      {
        at: clock.now().toISOString(),
        kind: 'release.created',
        actor: 'pipeline',
        hostName: build.host_name,
        data: { releaseId: id, storePath: build.out_path, superseded },
      },
    ]);
    logger.info(
      { host: build.host_name, releaseId: id, storePath: build.out_path },
      'release ready',
    );
    const ready = await releases.findById(id);
    if (ready) await this.options.onReady?.(ready);
    return ready;
  }

  async list(query: ReleaseListQuery): Promise<ReleaseList> {
    return { releases: (await this.options.releases.list(query)).map(toRelease) };
  }

  async get(id: string): Promise<Release> {
    return toRelease(await this.require(id));
  }

  async markDeployed(id: string): Promise<void> {
    await this.options.releases.markDeployed(id);
  }

  async require(id: string): Promise<ReleaseView> {
    const release = await this.options.releases.findById(id);
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
