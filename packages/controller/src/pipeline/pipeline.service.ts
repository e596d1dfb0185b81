import type { Evaluation } from '@flotilla/protocol';
import { FlotillaError } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { NixAdapter } from '../adapters/nix.js';
import type { Clock } from '@flotilla/runtime';
import type { BuildRepository, BuildRow } from '../storage/build.repository.js';
import {
  parseEvaluation,
  type EvaluationRepository,
  type RepositoryRow,
  type RevisionRow,
} from '../storage/evaluation.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { ReleaseRepository } from '../storage/release.repository.js';
import type { BuildQueue } from './build-queue.service.js';
import type { ReleaseService } from './release.service.js';

export interface PipelineServiceOptions {
  evaluations: EvaluationRepository;
  builds: BuildRepository;
  releases: ReleaseRepository;
  events: EventRepository;
  queue: BuildQueue;
  releaseService: ReleaseService;
  nix: NixAdapter;
  clock: Clock;
  logger: Logger;
  /** The bare mirror clone of a repository (kept by the repository service). */
  mirrorPath: (repositoryId: string) => string;
}

/**
 * From a new revision to builds: evaluate every host in one Nix call, then queue a build
 * only for hosts whose derivation changed. Revisions are processed one at a time, in the
 * order they arrive; on start, revisions a stopped controller left unfinished are redone.
 */
export class PipelineService {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: PipelineServiceOptions) {}

  /** Resumes revisions left pending or half-evaluated by a stop. */
  async start(): Promise<void> {
    for (const revision of await this.options.evaluations.unfinished()) {
      void this.onRevision(revision.id);
    }
  }

  /** Waits for all accepted revisions to be evaluated and their builds queued. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Accepts a new revision; resolves once it is evaluated and its builds are queued. */
  onRevision(revisionId: string): Promise<void> {
    this.chain = this.chain
      .then(() => this.process(revisionId))
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, revisionId }, 'processing a revision failed'),
      );
    return this.chain;
  }

  /** A succeeded build becomes a release when it was built for the tracked branch. */
  async onBuildSucceeded(build: BuildRow): Promise<void> {
    if (build.kind === 'release') await this.options.releaseService.createFromBuild(build);
  }

  private async process(revisionId: string): Promise<void> {
    const { evaluations, logger } = this.options;
    if (!(await evaluations.markEvaluating(revisionId))) return;
    const revision = await evaluations.revision(revisionId);
    const repository = revision && (await evaluations.repository(revision.repository_id));
    if (!revision || !repository) return;
    const evaluation = await this.evaluate(repository, revision);
    if (!evaluation) return;
    logger.info(
      {
        revisionId,
        sha: revision.sha,
        kind: revision.kind,
        hosts: Object.keys(evaluation.nixos).length,
      },
      'revision evaluated',
    );
    await this.planBuilds(revision, evaluation);
  }

  /** The flake reference of a revision inside the controller's mirror. */
  flakeUrl(repository: RepositoryRow, revision: RevisionRow): string {
    const params = new URLSearchParams({ ref: revision.ref, rev: revision.sha });
    if (repository.flake_dir) params.set('dir', repository.flake_dir);
    return `git+file://${this.options.mirrorPath(repository.id)}?${params.toString()}`;
  }

  private async evaluate(
    repository: RepositoryRow,
    revision: RevisionRow,
  ): Promise<Evaluation | null> {
    const { evaluations, events, nix, clock } = this.options;
    try {
      const result = await nix.evaluateHosts(this.flakeUrl(repository, revision));
      const evaluation: Evaluation = { ...result };
      await evaluations.saveEvaluation(revision.id, evaluation, clock.now().toISOString());
      await events.append([
        {
          at: clock.now().toISOString(),
          kind: 'revision.evaluated',
          actor: 'pipeline',
          data: {
            revisionId: revision.id,
            sha: revision.sha,
            hosts: Object.keys(result.nixos),
            hostErrors: Object.keys(result.hostErrors),
          },
        },
      ]);
      return evaluation;
    } catch (error) {
      const text = error instanceof FlotillaError ? error.message : String(error);
      await evaluations.saveFailure(revision.id, text, clock.now().toISOString());
      await events.append([
        {
          at: clock.now().toISOString(),
          kind: 'revision.evaluation_failed',
          actor: 'pipeline',
          data: { revisionId: revision.id, sha: revision.sha, error: text.split('\n')[0] },
        },
      ]);
      this.options.logger.warn({ revisionId: revision.id, sha: revision.sha }, 'evaluation failed');
      return null;
    }
  }

  private async planBuilds(revision: RevisionRow, evaluation: Evaluation): Promise<void> {
    const { builds, queue } = this.options;
    const existing = new Set((await builds.forRevision(revision.id)).map((b) => b.host_name));
    const base = revision.kind === 'preview' ? await this.baseEvaluation(revision) : null;
    for (const [host, drvPath] of Object.entries(evaluation.nixos)) {
      if (existing.has(host)) continue; // re-run after a restart: already planned
      if (revision.kind === 'preview') {
        if (base?.nixos[host] === drvPath) continue;
        if (await builds.succeededForDrv(drvPath)) continue; // the preview reuses it
        await queue.enqueue(
          { revisionId: revision.id, host, drvPath, kind: 'preview' },
          'pipeline',
        );
        continue;
      }
      if (await this.unchangedForHost(host, drvPath)) continue;
      const reusable = await builds.succeededForDrv(drvPath);
      if (reusable) {
        // Built before (e.g. as a preview of the pull request that became this commit).
        await this.options.releaseService.createFromBuild(reusable, revision.id);
        continue;
      }
      await queue.enqueue({ revisionId: revision.id, host, drvPath, kind: 'release' }, 'pipeline');
    }
  }

  /**
   * A host is unchanged when its derivation equals its newest release's, or the one of
   * a release build still queued or running (an earlier commit being built).
   */
  private async unchangedForHost(host: string, drvPath: string): Promise<boolean> {
    const latest = await this.options.releases.latestForHost(host);
    if (latest?.drv_path === drvPath) return true;
    const pending = await this.options.builds.list({ host, limit: 20 });
    return pending.some(
      (b) =>
        b.kind === 'release' &&
        b.drv_path === drvPath &&
        (b.status === 'queued' || b.status === 'running'),
    );
  }

  async baseEvaluation(revision: RevisionRow): Promise<Evaluation | null> {
    const { evaluations } = this.options;
    const base = revision.base_revision_id
      ? await evaluations.revision(revision.base_revision_id)
      : await evaluations.latestEvaluatedBranch(revision.repository_id);
    return parseEvaluation(base?.evaluation_json ?? null);
  }
}
