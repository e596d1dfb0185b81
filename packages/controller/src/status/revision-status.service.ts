import {
  FlotillaError,
  type Evaluation,
  type RevisionHostStatus,
  type RevisionPipelineStatus,
} from '@flotilla/protocol';
import { parseNixError } from '../adapters/nix-error.js';
import type { PipelineService } from '../pipeline/pipeline.service.js';
import type { BuildRow } from '../storage/build.repository.js';
import { parseEvaluation, type RevisionRow } from '../storage/evaluation.repository.js';
import type { ReleaseView } from '../storage/release.repository.js';
import type { Store } from '../storage/store.js';

export interface RevisionStatusServiceOptions {
  store: Store;
  pipeline: Pick<PipelineService, 'baseEvaluation'>;
  repositoryId: string;
  /** The tracked branch's name, for `HEAD` and `main` as selectors. */
  branch: () => Promise<string | null>;
}

const SHA_PREFIX = /^[0-9a-f]{7,40}$/;

/**
 * The pipeline status of one commit, host by host: what `flotilla wait` and the assistant's
 * tools follow. Reads only; one revision's hosts in a bounded number of queries per host.
 */
export class RevisionStatusService {
  constructor(private readonly options: RevisionStatusServiceOptions) {}

  async status(selector: string): Promise<RevisionPipelineStatus> {
    const revision = await this.resolve(selector);
    const evaluation = parseEvaluation(revision.evaluation_json);
    const base =
      revision.status === 'evaluated' ? await this.options.pipeline.baseEvaluation(revision) : null;
    const names = hostNames(evaluation);
    const modes = new Map(
      (await this.options.store.hosts.findByNames(names)).map((row) => [row.name, row.mode]),
    );
    const hosts: RevisionHostStatus[] = [];
    for (const name of names) {
      hosts.push(await this.host(revision, evaluation, base, name, modes.get(name) ?? null));
    }
    await this.attachDeployments(hosts);
    return {
      revision: {
        id: revision.id,
        sha: revision.sha,
        ref: revision.ref,
        kind: revision.kind,
        subject: revision.message.split('\n', 1)[0] ?? '',
        status: revision.status,
        discoveredAt: revision.discovered_at,
        evaluatedAt: revision.evaluated_at,
        baseRevisionId: revision.base_revision_id,
      },
      error:
        revision.status === 'failed'
          ? parseNixError(revision.error_text ?? 'evaluation failed')
          : null,
      hosts,
    };
  }

  /** A revision id, a commit id or prefix, `HEAD` or the branch, or a previewed ref. */
  private async resolve(selector: string): Promise<RevisionRow> {
    const { store, repositoryId } = this.options;
    const byId = await store.revisions.find(selector);
    if (byId) return byId;
    if (SHA_PREFIX.test(selector)) {
      const found = await store.revisions.withShaPrefix(repositoryId, selector, 10);
      const commits = new Set(found.map((row) => row.sha));
      if (commits.size > 1) {
        throw new FlotillaError(
          'revision_ambiguous',
          `${selector} is the start of ${commits.size} recorded commits: give more digits`,
          { commits: [...commits] },
        );
      }
      // One commit can be both a branch head and a preview: the branch's counts.
      const row = found.find((r) => r.kind === 'branch') ?? found[0];
      if (row) return row;
    } else {
      const branch = await this.options.branch();
      const ref =
        selector === 'HEAD' || selector === branch || selector === `refs/heads/${branch ?? ''}`
          ? `refs/heads/${branch ?? ''}`
          : selector;
      const row = await store.revisions.latestOfRef(repositoryId, ref);
      if (row) return row;
    }
    throw new FlotillaError(
      'revision_not_found',
      `no recorded revision ${selector} (a commit appears once the controller fetched it: webhook or poll)`,
    );
  }

  private async host(
    revision: RevisionRow,
    evaluation: Evaluation | null,
    base: Evaluation | null,
    host: string,
    mode: RevisionHostStatus['mode'],
  ): Promise<RevisionHostStatus> {
    const drvPath = evaluation?.nixos[host] ?? null;
    const errorText = evaluation?.hostErrors[host];
    const empty: RevisionHostStatus = {
      host,
      mode,
      evaluation: evaluation === null ? 'pending' : 'ok',
      error: null,
      drvPath,
      changed: false,
      build: null,
      release: null,
      deployment: null,
    };
    if (errorText !== undefined) {
      return {
        ...empty,
        evaluation: 'failed',
        error: evaluation?.hostErrorDetails?.[host] ?? parseNixError(errorText),
      };
    }
    if (drvPath === null) return empty;
    const { store } = this.options;
    const changed = base === null || base.nixos[host] !== drvPath;
    const notRebuilt = evaluation?.notRebuilt?.[host];
    const kind = revision.kind === 'preview' ? 'preview' : 'release';
    const own = (await store.builds.forRevision(revision.id)).filter((b) => b.host_name === host);
    const build =
      (notRebuilt ? await store.builds.findById(notRebuilt.failedBuildId) : undefined) ??
      own.at(-1) ??
      (await store.builds.latestForHostDrv(host, drvPath, kind)) ??
      (await store.builds.succeededForDrv(drvPath));
    const release =
      revision.kind === 'branch' ? await store.releases.latestForHostDrv(host, drvPath) : undefined;
    return {
      ...empty,
      changed,
      build: build ? buildOf(build, notRebuilt !== undefined) : null,
      release: release ? releaseOf(release) : null,
    };
  }

  private async attachDeployments(hosts: RevisionHostStatus[]): Promise<void> {
    const ids = hosts.flatMap((h) => (h.release ? [h.release.id] : []));
    const latest = await this.options.store.deployments.latestOfReleases(ids);
    for (const host of hosts) {
      const row = host.release ? latest.get(host.release.id) : undefined;
      if (!row) continue;
      host.deployment = {
        id: row.id,
        status: row.status,
        errorCode: row.error_code,
        errorMessage: row.error_message,
      };
    }
  }
}

function hostNames(evaluation: Evaluation | null): string[] {
  if (evaluation === null) return [];
  return [
    ...new Set([...Object.keys(evaluation.nixos), ...Object.keys(evaluation.hostErrors)]),
  ].sort();
}

function buildOf(row: BuildRow, notRebuilt: boolean): NonNullable<RevisionHostStatus['build']> {
  return { id: row.id, status: row.status, errorSummary: row.error_summary, notRebuilt };
}

function releaseOf(row: ReleaseView): NonNullable<RevisionHostStatus['release']> {
  return { id: row.id, status: row.status };
}
