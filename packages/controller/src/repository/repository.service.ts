import { existsSync } from 'node:fs';
import {
  FlotillaError,
  type CreatePreviewRequest,
  type CreatePreviewResponse,
  type LinkRepositoryRequest,
  type Repository,
  type Revision,
  type RevisionList,
  type RevisionListQuery,
  type SyncReason,
  type SyncResult,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { RepositoryConfig } from '../config.js';
import type { LiveEvents } from '../events/event-bus.js';
import { mirrorPath, type GitClient, type GitClientOptions } from '../git/git.client.js';
import { refMatchesAny } from '../git/ref-patterns.js';
import type { EventRepository } from '../storage/event.repository.js';
import type {
  RepositoryLinkRepository,
  RepositoryLinkRow,
} from '../storage/repository-link.repository.js';
import type { RevisionRepository, RevisionRow } from '../storage/revision.repository.js';
import { CoalescingRunner } from './coalescing-runner.js';
import { RepositoryCredentials } from './repository-credentials.js';
import { RepositoryMirrors } from './repository-mirrors.js';
import { reconcileConfigLink, saveApiLink, type LinkDeps } from './repository-link.js';
import { RepositorySyncPass, type PreviewSettings } from './repository-sync.js';
import { SyncPoller } from './repository.poller.js';
import { toRepository, toRevision } from './repository.view.js';
import { RevisionRecorder } from './revision.recorder.js';
import { SerialQueue } from '@flotilla/runtime';

/** Receives every newly recorded revision (the pipeline evaluates and builds it). */
export interface RevisionPipeline {
  /** Called once per new revision, one at a time, in discovery order; should return soon. */
  onRevision(revisionId: string): Promise<void>;
}

export interface RepositoryServiceOptions {
  stateDir: string;
  /** The environment git starts from. */
  childEnv: Record<string, string>;
  /** The config file's repository section; when present it owns the link (locked). */
  config: RepositoryConfig | undefined;
  /** The config's access token (repository.tokenFile or env), held in memory only. */
  configToken: string | undefined;
  links: RepositoryLinkRepository;
  revisions: RevisionRepository;
  events: EventRepository;
  pipeline: RevisionPipeline;
  /** Told about links, syncs (new heads, fetch errors) and new revisions (`repository.changed`). */
  live: LiveEvents;
  clock: Clock;
  logger: Logger;
  /** Builds a mirror's git client; replaceable for tests. */
  gitClient?: (options: GitClientOptions) => GitClient;
}

/** A pull request's head as GitHub's webhook reports it. */
export interface PullRequestHead {
  number: number;
  headSha: string;
  /** The head branch lives in the repository itself, not in a fork. */
  fromRepositoryItself: boolean;
}

/** The one repository for now; everything is keyed by id so more are a small step. */
export const DEFAULT_REPOSITORY_ID = 'default';

const DEFAULT_PREVIEWS: PreviewSettings = {
  refPatterns: ['refs/pull/*/head'],
  autoRefPatterns: [],
  autoWhenChanged: [],
};

/**
 * The linked flake repository: the link itself (from the config, locked, or the API),
 * change detection (startup, polls, webhooks, requests; coalesced and serialized per
 * mirror), previews on request, and reading revisions back.
 */
export class RepositoryService {
  private readonly id = DEFAULT_REPOSITORY_ID;
  private readonly queue = new SerialQueue();
  private readonly runner: CoalescingRunner<SyncReason, SyncResult>;
  private readonly poller: SyncPoller;
  private readonly recorder: RevisionRecorder;
  private readonly pass: RepositorySyncPass;
  private readonly credentials: RepositoryCredentials;
  private readonly previews: PreviewSettings;
  private readonly mirrors: RepositoryMirrors;
  private handoff: Promise<void> = Promise.resolve();
  private readonly counted = new Map<string, number | null>();

  constructor(private readonly options: RepositoryServiceOptions) {
    const { links, revisions, events, clock, logger } = options;
    this.credentials = new RepositoryCredentials({
      stateDir: options.stateDir,
      configToken: options.configToken,
    });
    this.mirrors = new RepositoryMirrors({
      stateDir: options.stateDir,
      childEnv: options.childEnv,
      credentials: this.credentials,
      links,
      clock,
      gitClient: options.gitClient,
    });
    this.recorder = new RevisionRecorder({ revisions, events, clock, logger });
    this.pass = new RepositorySyncPass({ links, events, recorder: this.recorder, clock, logger });
    this.previews = options.config?.previews ?? DEFAULT_PREVIEWS;
    this.runner = new CoalescingRunner((reason) => this.syncNow(reason));
    this.poller = new SyncPoller({
      intervalSeconds: () => this.pollInterval(),
      sync: (reason) => this.syncLogged(reason),
    });
  }

  /** Brings the stored link in line with the config file; call once before start(). */
  async init(): Promise<void> {
    await reconcileConfigLink(this.linkDeps(), this.options.config, this.options.configToken);
  }

  /** Starts polling, beginning with a sync right away. */
  start(): void {
    this.poller.start();
  }

  /** Stops polling and waits for a sync or preview fetch in progress. */
  async stop(): Promise<void> {
    this.poller.stop();
    await this.runner.idle();
    await this.queue.idle();
  }

  /** The mirror of a repository, for readers such as the evaluator (`git+file://…`). */
  mirrorPath(repositoryId = this.id): string {
    return mirrorPath(this.options.stateDir, repositoryId);
  }

  /**
   * The link and its mirror's git client, for the web editor (which reads trees and blobs
   * of the mirror, writes objects and pushes); `repository_not_linked` without a link.
   */
  async mirror(): Promise<{ link: RepositoryLinkRow; git: GitClient }> {
    const link = await this.requireLink();
    const { client } = await this.mirrors.clientFor(link);
    await client.ensureMirror();
    return { link, git: client };
  }

  async get(): Promise<Repository> {
    return toRepository(await this.requireLink());
  }

  /** Links (or re-links) the repository through the API; refused when the config owns it. */
  async link(request: LinkRepositoryRequest, actor: string): Promise<Repository> {
    if (request.sshKeyFile !== undefined && !existsSync(request.sshKeyFile)) {
      throw new FlotillaError(
        'validation_failed',
        `sshKeyFile ${request.sshKeyFile} does not exist`,
      );
    }
    const row = await this.queue.run(() => saveApiLink(this.linkDeps(), request, actor));
    this.changed();
    this.poller.reschedule();
    this.requestSync('api');
    return toRepository(row);
  }

  /** Fetches and records what is new; joins a sync already queued (see CoalescingRunner). */
  sync(reason: SyncReason): Promise<SyncResult> {
    return this.runner.run(reason);
  }

  /** Starts a sync without waiting for it (webhooks); failures are logged. */
  requestSync(reason: SyncReason): void {
    void this.syncLogged(reason);
  }

  /**
   * How many commits `to` has that `from` has not (`git rev-list --count from..to` in the
   * mirror); null when it cannot tell (no link, a commit the mirror does not hold). Answers
   * are kept: commits never change.
   */
  async commitsBetween(from: string, to: string): Promise<number | null> {
    const key = `${from}..${to}`;
    const known = this.counted.get(key);
    if (known !== undefined) return known;
    const link = await this.options.links.find(this.id);
    if (!link) return null;
    let count: number | null;
    try {
      const { client } = await this.mirrors.clientFor(link);
      count = await client.countCommits(from, to);
    } catch {
      return null;
    }
    if (this.counted.size > 10_000) this.counted.clear();
    this.counted.set(key, count);
    return count;
  }

  /** Throws `repository_not_linked` unless a repository is linked. */
  async requireLinked(): Promise<void> {
    await this.requireLink();
  }

  /** Records a preview revision for a ref that matches the preview patterns. */
  async createPreview(
    request: CreatePreviewRequest,
    actor: string,
  ): Promise<CreatePreviewResponse> {
    const { ref } = request;
    const result = await this.queue.run(async () => {
      const link = await this.requireLink();
      if (ref === `refs/heads/${link.branch}`) {
        throw new FlotillaError('preview_ref_not_allowed', `${ref} is the tracked branch`);
      }
      if (!refMatchesAny(this.previews.refPatterns, ref)) {
        const patterns = this.previews.refPatterns.join(', ') || 'none';
        throw new FlotillaError(
          'preview_ref_not_allowed',
          `${ref} does not match the refs that may be previewed (${patterns})`,
        );
      }
      const { client: git } = await this.mirrors.clientFor(link);
      await git.fetchRef(ref);
      const sha = await git.revParse(ref);
      if (sha === undefined) throw new FlotillaError('ref_not_found', `no commit at ${ref}`);
      return this.recorder.record({
        git,
        repositoryId: link.id,
        ref,
        sha,
        kind: 'preview',
        baseRevisionId: await this.recorder.branchRevisionId(
          link.id,
          link.branch,
          link.followed_sha,
        ),
        actor,
        reason: 'request',
      });
    });
    if (result.created) {
      this.changed();
      this.handOff([result.row]);
    }
    return { revision: toRevision(result.row), created: result.created };
  }

  /**
   * GitHub's signed word that pull request `number` was opened or pushed to. Its head is
   * previewed automatically — built on this controller without anyone asking — only when
   * it comes from the repository itself (people with push access) and matches
   * `previews.autoRefPatterns`; a fork's pull request is previewed only on request.
   * Runs in the background, like a webhook's sync.
   */
  requestPullRequestPreview(pr: PullRequestHead): void {
    const ref = `refs/pull/${pr.number}/head`;
    const { logger } = this.options;
    if (!refMatchesAny(this.previews.autoRefPatterns, ref)) return;
    if (!pr.fromRepositoryItself) {
      logger.info(
        { ref, sha: pr.headSha },
        'pull request from another repository: previewed only on request',
      );
      return;
    }
    void this.autoPreviewPullRequest(ref, pr.headSha).catch((error: unknown) =>
      logger.warn({ ref, sha: pr.headSha, err: error }, 'automatic preview failed'),
    );
  }

  private async autoPreviewPullRequest(ref: string, headSha: string): Promise<void> {
    const row = await this.queue.run(async () => {
      const link = await this.requireLink();
      const { client: git } = await this.mirrors.clientFor(link);
      await git.fetchRef(ref);
      const sha = await git.revParse(ref);
      // Moved on since GitHub wrote: the delivery for the newer head decides about that one.
      if (sha !== headSha) return undefined;
      const baseSha = link.followed_sha ?? (await git.revParse(`refs/heads/${link.branch}`));
      if (baseSha === undefined) return undefined;
      return this.pass.autoPreview(link, git, this.previews, {
        ref,
        sha,
        baseSha,
        baseRevisionId: await this.recorder.branchRevisionId(
          link.id,
          link.branch,
          link.followed_sha,
        ),
        actor: 'github',
        reason: 'webhook',
      });
    });
    if (row) {
      this.changed();
      this.handOff([row]);
    }
  }

  async listRevisions(query: RevisionListQuery): Promise<RevisionList> {
    const rows = await this.options.revisions.list(this.id, query);
    return { revisions: rows.map(toRevision) };
  }

  async getRevision(id: string): Promise<Revision> {
    const row = await this.options.revisions.find(id);
    if (!row) throw new FlotillaError('revision_not_found', `no revision ${id}`);
    return toRevision(row);
  }

  private async syncNow(reason: SyncReason): Promise<SyncResult> {
    const outcome = await this.queue
      .run(async () => {
        const link = await this.requireLink();
        const { client, token } = await this.mirrors.clientFor(link);
        return this.pass.run(link, client, this.previews, reason, [
          this.options.configToken,
          token,
        ]);
      })
      // A failed fetch is news too (the link shows its error).
      .finally(() => this.changed());
    this.handOff(outcome.newRevisions);
    return {
      reason,
      headSha: outcome.headSha,
      newRevisions: outcome.newRevisions.map(toRevision),
      forcePush: outcome.forcePush,
      repository: toRepository(await this.requireLink()),
    };
  }

  private async syncLogged(reason: SyncReason): Promise<void> {
    try {
      await this.sync(reason);
    } catch (error) {
      // Not being linked is no news. Requested syncs are logged by the HTTP error handler;
      // these are not requested, so this is their one log line. Git errors are redacted.
      if (error instanceof FlotillaError && error.code === 'repository_not_linked') return;
      const code = error instanceof FlotillaError ? error.code : 'internal_error';
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.warn({ reason, code, error: message }, 'repository sync failed');
    }
  }

  /** Hands new revisions to the pipeline one at a time, in order, without holding up syncs. */
  private handOff(rows: readonly RevisionRow[]): void {
    const { pipeline, logger } = this.options;
    for (const row of rows) {
      this.handoff = this.handoff
        .then(() => pipeline.onRevision(row.id))
        .catch((error: unknown) =>
          logger.error({ revisionId: row.id, err: error }, 'pipeline did not take the revision'),
        );
    }
  }

  private changed(): void {
    this.options.live.publish({ type: 'repository.changed' });
  }

  private async requireLink(): Promise<RepositoryLinkRow> {
    const row = await this.options.links.find(this.id);
    if (!row) {
      throw new FlotillaError(
        'repository_not_linked',
        'no repository is linked: set "repository" in the config or PUT /api/v1/repository',
      );
    }
    return row;
  }

  private linkDeps(): LinkDeps {
    const { links, events, clock, logger } = this.options;
    return { id: this.id, links, events, credentials: this.credentials, clock, logger };
  }

  private async pollInterval(): Promise<number | undefined> {
    try {
      return (await this.options.links.find(this.id))?.poll_interval_seconds;
    } catch {
      return 60;
    }
  }
}
