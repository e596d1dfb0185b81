import { join } from 'node:path';
import type { Logger } from 'pino';
import { NixClient, type NixAdapter } from '../adapters/nix.js';
import { nixBuildEnv } from './builder-ssh.js';
import { mirrorPath } from '../git/git.client.js';
import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig } from '../config.js';
import type { LiveEvents } from '../events/event-bus.js';
import { BuildQueue } from './build-queue.service.js';
import { BuildService } from './build.service.js';
import { PipelineService } from './pipeline.service.js';
import { PreviewService } from './preview.service.js';
import { ReleaseService } from './release.service.js';
import type { ReleasePublisher } from '../cache/cache.publisher.js';
import type { ReleaseView } from '../storage/release.repository.js';
import type { Store } from '../storage/store.js';

export interface PipelineDeps {
  store: Store;
  config: ControllerConfig;
  publisher: ReleasePublisher;
  /** Nix; the real command-line client unless a test or tool injects another. */
  nix?: NixAdapter;
  live: LiveEvents;
  clock: Clock;
  logger: Logger;
  /** Inside the transaction that makes a release ready (policies decide). */
  onReleaseReady?: (tx: Store, release: ReleaseView) => Promise<void>;
  /** After it committed. */
  afterReleaseReady?: (release: ReleaseView) => Promise<void>;
}

/** The build pipeline's parts, wired: evaluation → build queue → releases, plus read models. */
export interface Pipeline {
  pipeline: PipelineService;
  queue: BuildQueue;
  builds: BuildService;
  releases: ReleaseService;
  previews: PreviewService;
  start(): Promise<void>;
  /** Once the API listens: reports whether builds run in Nix's sandbox. */
  listening(): void;
  stop(): Promise<void>;
}

/** How long after the API listens the controller asks Nix whether builds run sandboxed. */
const SANDBOX_REPORT_MS = 1_000;

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { store, config, live, clock, logger } = deps;
  const { events, evaluations } = store;
  const nix = deps.nix ?? new NixClient({ env: nixBuildEnv(config.childEnv, config.builds) });
  const buildRepository = store.builds;
  const releaseRepository = store.releases;
  let sandboxReport: NodeJS.Timeout | undefined;
  const releases = new ReleaseService({
    store,
    publisher: deps.publisher,
    live,
    clock,
    logger,
    onReady: deps.onReleaseReady,
    afterReady: deps.afterReleaseReady,
  });
  // The queue reports successes to the pipeline, which is built after it (the callback
  // only runs once the queue has started).
  const queue: BuildQueue = new BuildQueue({
    builds: buildRepository,
    events,
    live,
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
    live,
    nix,
    clock,
    logger,
    mirrorPath: (id) => mirrorPath(config.stateDir, id),
  });
  const previews = new PreviewService({
    evaluations,
    builds: buildRepository,
    releases: releaseRepository,
    hosts: store.hosts,
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
    // Asking Nix starts a process, which costs this one a fork: not on the way to serving,
    // nor while the first requests come in.
    listening() {
      if (!(nix instanceof NixClient)) return;
      sandboxReport = setTimeout(() => void reportBuildSandbox(nix, logger), SANDBOX_REPORT_MS);
      sandboxReport.unref();
    },
    async stop() {
      clearTimeout(sandboxReport);
      await queue.stop();
      await pipeline.idle();
    },
  };
}

/**
 * Says at start (a second after the API listens) whether builds run in Nix's sandbox. The controller builds what the
 * repository declares on the machine that holds the signing key; without the sandbox a
 * build can read that machine's files.
 */
async function reportBuildSandbox(nix: NixClient, logger: Logger): Promise<void> {
  const sandbox = await nix.buildSandbox();
  if (sandbox === 'true') logger.info({ sandbox }, "builds run in Nix's sandbox");
  else
    logger.warn(
      { sandbox: sandbox ?? 'unknown' },
      "builds do not run in Nix's sandbox: a build can reach this machine's files and network; set sandbox = true in nix.conf where the platform supports it",
    );
}
