import { join } from 'node:path';
import type { Logger } from 'pino';
import { NixClient } from '../adapters/nix.js';
import { mirrorPath } from '../git/git.client.js';
import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig } from '../config.js';
import { BuildQueue } from './build-queue.service.js';
import { BuildService } from './build.service.js';
import { PipelineService } from './pipeline.service.js';
import { PreviewService } from './preview.service.js';
import { ReleaseService } from './release.service.js';
import type { ReleasePublisher } from '../cache/cache.publisher.js';
import { BuildRepository } from '../storage/build.repository.js';
import type { Db } from '../storage/database.js';
import { EvaluationRepository } from '../storage/evaluation.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { HostRepository } from '../storage/host.repository.js';
import { ReleaseRepository, type ReleaseView } from '../storage/release.repository.js';

export interface PipelineDeps {
  db: Db;
  config: ControllerConfig;
  events: EventRepository;
  hosts: HostRepository;
  publisher: ReleasePublisher;
  clock: Clock;
  logger: Logger;
  onReleaseReady?: (release: ReleaseView) => Promise<void>;
}

/** The build pipeline's parts, wired: evaluation → build queue → releases, plus read models. */
export interface Pipeline {
  pipeline: PipelineService;
  queue: BuildQueue;
  builds: BuildService;
  releases: ReleaseService;
  previews: PreviewService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { db, config, events, clock, logger } = deps;
  const nix = new NixClient({ env: config.childEnv });
  const buildRepository = new BuildRepository(db);
  const releaseRepository = new ReleaseRepository(db);
  const evaluations = new EvaluationRepository(db);
  const releases = new ReleaseService({
    releases: releaseRepository,
    events,
    publisher: deps.publisher,
    clock,
    logger,
    onReady: deps.onReleaseReady,
  });
  // The queue reports successes to the pipeline, which is built after it (the callback
  // only runs once the queue has started).
  const queue: BuildQueue = new BuildQueue({
    builds: buildRepository,
    events,
    nix,
    config: config.builds,
    clock,
    logger,
    gcRootDir: join(config.stateDir, 'gcroots', 'builds'),
    onSucceeded: (build): Promise<void> => pipeline.onBuildSucceeded(build),
  });
  const pipeline: PipelineService = new PipelineService({
    evaluations,
    builds: buildRepository,
    releases: releaseRepository,
    events,
    queue,
    releaseService: releases,
    nix,
    clock,
    logger,
    mirrorPath: (id) => mirrorPath(config.stateDir, id),
  });
  const previews = new PreviewService({
    evaluations,
    builds: buildRepository,
    releases: releaseRepository,
    hosts: deps.hosts,
    pipeline,
  });
  const builds = new BuildService({ builds: buildRepository, queue });
  return {
    pipeline,
    queue,
    builds,
    releases,
    previews,
    async start() {
      await queue.start();
      await pipeline.start();
    },
    async stop() {
      await queue.stop();
      await pipeline.idle();
    },
  };
}
