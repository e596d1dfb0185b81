import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { LiveEvents } from '../events/event-bus.js';
import type { PipelineService } from '../pipeline/pipeline.service.js';
import type { Store } from '../storage/store.js';
import { DraftChecker } from './draft-check.js';
import { DraftCommitter } from './draft-commit.service.js';
import { DraftService } from './draft.service.js';
import { EditorBrowser } from './editor-browse.service.js';
import type { EditorMirror } from './editor-mirror.js';

export interface EditorDeps {
  store: Store;
  /** The linked repository: its mirror, and syncs (fetch, follow, hand to the pipeline). */
  repository: EditorMirror & { sync(reason: 'editor'): Promise<unknown> };
  /** Evaluates commits as the pipeline evaluates pushes. */
  pipeline: Pick<PipelineService, 'evaluateCommit'>;
  clock: Clock;
  logger: Logger;
  /** Told of every change of a draft (`drafts.changed`). */
  live: LiveEvents;
}

/** The web editor's parts, wired: browsing, drafts, checks and commits. */
export interface Editor {
  browser: EditorBrowser;
  drafts: DraftService;
  committer: DraftCommitter;
  /** Settles drafts a stopped controller left between pushing and recording. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createEditor(deps: EditorDeps): Editor {
  const { store, repository, clock, logger, live } = deps;
  const checker = new DraftChecker({ pipeline: deps.pipeline, revisions: store.revisions, clock });
  // The draft service asks the committer to settle a pushing draft before showing it; the
  // committer is built after it (the callback only runs once a request arrives).
  const drafts: DraftService = new DraftService({
    store,
    repository,
    clock,
    live,
    settlePushing: async (row) => void (await committer.settle(row)),
  });
  const committer: DraftCommitter = new DraftCommitter({
    store,
    repository,
    checker,
    drafts,
    clock,
    logger,
    live,
  });
  return {
    browser: new EditorBrowser(repository),
    drafts,
    committer,
    start: () => committer.start(),
    stop: () => committer.stop(),
  };
}
