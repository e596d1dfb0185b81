import {
  FlotillaError,
  formatNixErrorLocation,
  type Evaluation,
  type NotRebuiltHost,
} from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { FlakeHostsEvaluation, NixAdapter } from '../adapters/nix.js';
import type { Clock } from '@flotilla/runtime';
import type { LiveEvents } from '../events/event-bus.js';
import type { BuildRepository, BuildRow } from '../storage/build.repository.js';
import {
  parseEvaluation,
  type EvaluationRepository,
  type RepositoryRow,
  type RevisionRow,
} from '../storage/evaluation.repository.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { ReleaseRepository } from '../storage/release.repository.js';
import type { BuildQueue, BuildRequest } from './build-queue.service.js';
import type { ReleaseService } from './release.service.js';

/** What a revision's hosts need, decided before anything is queued. */
interface BuildPlan {
  enqueue: BuildRequest[];
  /** Succeeded builds of the same derivations: their outputs become releases. */
  reuse: BuildRow[];
  notRebuilt: Record<string, NotRebuiltHost>;
}

type ReleaseState = { kind: 'unchanged' } | { kind: 'new' } | { kind: 'failed'; buildId: string };

export interface PipelineServiceOptions {
  evaluations: EvaluationRepository;
  builds: BuildRepository;
  releases: ReleaseRepository;
  events: EventRepository;
  queue: BuildQueue;
  releaseService: ReleaseService;
  /** Told when a revision starts or ends evaluating (`repository.changed`). */
  live: LiveEvents;
  nix: NixAdapter;
  clock: Clock;
  logger: Logger;
  /** The bare mirror clone of a repository (kept by the repository service). */
  mirrorPath: (repositoryId: string) => string;
}

/**
 * From a new revision to builds: evaluate every host in one Nix call (host by host when
 * one host's file breaks that call), then queue a build only for hosts whose derivation
 * changed and did not fail to build before. Revisions are processed one at a time, in the
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
    this.options.live.publish({ type: 'repository.changed' });
    const revision = await evaluations.revision(revisionId);
    const repository = revision && (await evaluations.repository(revision.repository_id));
    if (!revision || !repository) return;
    const evaluated = await this.evaluate(repository, revision);
    if (!evaluated) return;
    const plan = await this.planBuilds(revision, evaluated);
    const evaluation: Evaluation =
      Object.keys(plan.notRebuilt).length > 0
        ? { ...evaluated, notRebuilt: plan.notRebuilt }
        : evaluated;
    await this.recordEvaluation(revision, evaluation);
    logger.info(
      {
        revisionId,
        sha: revision.sha,
        kind: revision.kind,
        hosts: Object.keys(evaluation.nixos).length,
        hostErrors: Object.keys(evaluation.hostErrors).length,
        evaluatedPerHost: evaluation.evaluatedPerHost === true,
      },
      'revision evaluated',
    );
    await this.queueBuilds(revision, plan);
  }

  /** The flake reference of a revision inside the controller's mirror. */
  flakeUrl(repository: RepositoryRow, revision: RevisionRow): string {
    return mirrorFlakeUrl(this.options.mirrorPath(repository.id), repository.flake_dir, {
      ref: revision.ref,
      sha: revision.sha,
    });
  }

  /**
   * Evaluates any commit of a repository's mirror as a push of it would be evaluated (one
   * call for all hosts, host by host when that fails), recording nothing: the web editor
   * checks drafts with it. `ref` must point at (or contain) the commit.
   */
  evaluateCommit(
    repository: Pick<RepositoryRow, 'id' | 'flake_dir'>,
    commit: { ref: string; sha: string },
  ): Promise<FlakeHostsEvaluation> {
    const mirror = this.options.mirrorPath(repository.id);
    return this.options.nix.evaluateHosts(mirrorFlakeUrl(mirror, repository.flake_dir, commit));
  }

  /** Evaluates a revision's hosts; a failure of the flake as a whole is recorded here. */
  private async evaluate(
    repository: RepositoryRow,
    revision: RevisionRow,
  ): Promise<Evaluation | null> {
    const { evaluations, events, nix, clock } = this.options;
    try {
      return await nix.evaluateHosts(this.flakeUrl(repository, revision));
    } catch (error) {
      const text = error instanceof FlotillaError ? error.message : String(error);
      await evaluations.saveFailure(revision.id, text, clock.now().toISOString());
      this.options.live.publish({ type: 'repository.changed' });
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

  /** Stores the evaluation (the revision is `evaluated`, host errors or not) and its events. */
  private async recordEvaluation(revision: RevisionRow, evaluation: Evaluation): Promise<void> {
    const { evaluations, events, clock } = this.options;
    const at = clock.now().toISOString();
    await evaluations.saveEvaluation(revision.id, evaluation, at);
    this.options.live.publish({ type: 'repository.changed' });
    const notRebuilt = Object.entries(evaluation.notRebuilt ?? {}).map(([host, skip]) => ({
      at,
      kind: 'build.not_rebuilt',
      actor: 'pipeline',
      hostName: host,
      data: { revisionId: revision.id, drvPath: skip.drvPath, failedBuildId: skip.failedBuildId },
    }));
    await events.append([
      {
        at,
        kind: 'revision.evaluated',
        actor: 'pipeline',
        data: {
          revisionId: revision.id,
          sha: revision.sha,
          hosts: Object.keys(evaluation.nixos),
          hostErrors: Object.keys(evaluation.hostErrors),
          hostErrorLocations: Object.fromEntries(
            Object.entries(evaluation.hostErrorDetails ?? {}).flatMap(([host, detail]) =>
              detail.location ? [[host, formatNixErrorLocation(detail.location)]] : [],
            ),
          ),
          evaluatedPerHost: evaluation.evaluatedPerHost === true,
        },
      },
      ...notRebuilt,
    ]);
  }

  /**
   * Decides, without changing anything, what each host of a revision needs: a build, the
   * output of an earlier build of the same derivation, or nothing. A release derivation
   * whose newest release build failed is not built again by a push (a deterministic
   * failure would fail again on every commit); it is built when retried or when the
   * derivation changes.
   */
  private async planBuilds(revision: RevisionRow, evaluation: Evaluation): Promise<BuildPlan> {
    const { builds } = this.options;
    const plan: BuildPlan = { enqueue: [], reuse: [], notRebuilt: {} };
    const existing = new Set((await builds.forRevision(revision.id)).map((b) => b.host_name));
    const base = revision.kind === 'preview' ? await this.baseEvaluation(revision) : null;
    for (const [host, drvPath] of Object.entries(evaluation.nixos)) {
      if (existing.has(host)) continue; // re-run after a restart: already planned
      if (revision.kind === 'preview') {
        if (base?.nixos[host] === drvPath) continue;
        if (await builds.succeededForDrv(drvPath)) continue; // the preview reuses it
        plan.enqueue.push({ revisionId: revision.id, host, drvPath, kind: 'preview' });
        continue;
      }
      const state = await this.releaseState(host, drvPath);
      if (state.kind === 'unchanged') continue;
      const reusable = await builds.succeededForDrv(drvPath);
      // Built before (e.g. as a preview of the pull request that became this commit).
      if (reusable) plan.reuse.push(reusable);
      else if (state.kind === 'failed') {
        plan.notRebuilt[host] = { drvPath, failedBuildId: state.buildId };
      } else plan.enqueue.push({ revisionId: revision.id, host, drvPath, kind: 'release' });
    }
    return plan;
  }

  private async queueBuilds(revision: RevisionRow, plan: BuildPlan): Promise<void> {
    for (const build of plan.reuse) {
      await this.options.releaseService.createFromBuild(build, revision.id);
    }
    for (const request of plan.enqueue) await this.options.queue.enqueue(request, 'pipeline');
  }

  /**
   * Where a host's derivation stands: `unchanged` when it equals its newest release's or
   * its newest release build is still queued or running (an earlier commit being built),
   * `failed` when that build failed, `new` otherwise.
   */
  private async releaseState(host: string, drvPath: string): Promise<ReleaseState> {
    const latest = await this.options.releases.latestForHost(host);
    if (latest?.drv_path === drvPath) return { kind: 'unchanged' };
    const build = await this.options.builds.latestForHostDrv(host, drvPath, 'release');
    if (build?.status === 'queued' || build?.status === 'running') return { kind: 'unchanged' };
    if (build?.status === 'failed') return { kind: 'failed', buildId: build.id };
    return { kind: 'new' };
  }

  async baseEvaluation(revision: RevisionRow): Promise<Evaluation | null> {
    const { evaluations } = this.options;
    const base = revision.base_revision_id
      ? await evaluations.revision(revision.base_revision_id)
      : await evaluations.latestEvaluatedBranch(revision.repository_id);
    return parseEvaluation(base?.evaluation_json ?? null);
  }
}

/** `git+file://<mirror>?ref=…&rev=…[&dir=…]`: one commit of a mirror as a flake. */
function mirrorFlakeUrl(mirror: string, flakeDir: string, commit: { ref: string; sha: string }) {
  const params = new URLSearchParams({ ref: commit.ref, rev: commit.sha });
  if (flakeDir) params.set('dir', flakeDir);
  return `git+file://${mirror}?${params.toString()}`;
}
