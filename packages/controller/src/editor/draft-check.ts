import {
  FlotillaError,
  formatNixErrorLocation,
  type DraftCheck,
  type DraftConflict,
  type HostEvaluationError,
} from '@flotilla/protocol';
import { SerialQueue, type Clock } from '@flotilla/runtime';
import { parseNixError } from '../adapters/nix-error.js';
import { GitObjects, type GitIdentity } from '../git/git-objects.js';
import type { GitClient } from '../git/git.client.js';
import type { PipelineService } from '../pipeline/pipeline.service.js';
import { parseEvaluation } from '../storage/evaluation.repository.js';
import type { RepositoryLinkRow } from '../storage/repository-link.repository.js';
import type { RevisionRepository } from '../storage/revision.repository.js';
import { applyDraft, candidateTree, type DraftFile } from './draft-apply.js';
import {
  compareHosts,
  hostsAllowCommit,
  hostsSummary,
  type HostsEvaluation,
} from './draft-hosts.js';
import { CONTROLLER_COMMITTER } from './draft-paths.js';
import { branchRef, resolveCommit } from './editor-mirror.js';

export interface DraftCheckerOptions {
  pipeline: Pick<PipelineService, 'evaluateCommit'>;
  revisions: Pick<RevisionRepository, 'findByRef'>;
  clock: Clock;
}

/** The commit a draft makes on the branch head, or the conflict that prevents it. */
export type Candidate =
  | { kind: 'conflict'; head: string; conflict: DraftConflict }
  | {
      kind: 'commit';
      head: string;
      commit: string;
      /** The branch had moved: the draft was merged onto its head. */
      rebased: boolean;
      /** The commit changes nothing (the branch has every change already). */
      empty: boolean;
      /** A ref of the mirror that holds the commit (Nix reads it there; gc keeps it). */
      ref: string;
    };

/** Evaluations of branch heads kept in memory (a commit's evaluation never changes). */
const HEAD_CACHE = 8;

/**
 * Checks drafts: applies one to the branch head as a real commit in the mirror (no push),
 * evaluates it as the pipeline evaluates a push — one Nix call for every host, host by
 * host when that fails — and compares each host's system derivation with the branch head's
 * (the pipeline's stored evaluation of the head, or an evaluation of its own). One editor
 * evaluation runs at a time: each is a Nix process as heavy as the pipeline's.
 */
export class DraftChecker {
  private readonly queue = new SerialQueue();
  private readonly heads = new Map<string, Promise<HostsEvaluation | null>>();

  constructor(private readonly options: DraftCheckerOptions) {}

  /**
   * The commit a draft makes on the branch head of the mirror, authored as given and
   * committed by the controller, kept under `ref`; or the conflict when the branch moved
   * and some file does not merge.
   */
  async candidate(
    git: GitClient,
    link: RepositoryLinkRow,
    draft: { baseCommit: string; files: readonly DraftFile[] },
    commit: { ref: string; message: string; author: GitIdentity },
  ): Promise<Candidate> {
    const head = await resolveCommit(git, link);
    const objects = new GitObjects(git);
    const applied = await applyDraft(objects, {
      baseCommit: draft.baseCommit,
      headCommit: head,
      files: draft.files,
    });
    if (!applied.ok) return { kind: 'conflict', head, conflict: applied.conflict };
    const tree = await candidateTree(objects, head, applied.files);
    const sha = await objects.commitTree({
      tree,
      parent: head,
      message: commit.message,
      author: commit.author,
      committer: CONTROLLER_COMMITTER,
      at: this.options.clock.now(),
    });
    await git.updateRef(commit.ref, sha);
    return {
      kind: 'commit',
      head,
      commit: sha,
      rebased: applied.rebased,
      empty: tree === (await objects.treeOf(head)),
      ref: commit.ref,
    };
  }

  /** Evaluates a candidate against the branch head. */
  async evaluate(
    link: RepositoryLinkRow,
    candidate: Extract<Candidate, { kind: 'commit' }>,
    draft: { revision: number; baseCommit: string },
  ): Promise<DraftCheck> {
    return this.queue.run(async () => {
      const head = await this.headEvaluation(link, candidate.head);
      let evaluated: HostsEvaluation | null = null;
      let flakeError: HostEvaluationError | null = null;
      if (candidate.empty) {
        evaluated = head;
      } else {
        try {
          evaluated = await this.options.pipeline.evaluateCommit(link, {
            ref: candidate.ref,
            sha: candidate.commit,
          });
        } catch (error) {
          if (!(error instanceof FlotillaError) || error.code !== 'evaluation_failed') throw error;
          flakeError = parseNixError(error.message);
        }
      }
      const hosts = evaluated === null ? [] : compareHosts(head, evaluated);
      const ok = flakeError === null && evaluated !== null && hostsAllowCommit(hosts);
      return {
        draftRevision: draft.revision,
        baseCommit: draft.baseCommit,
        headCommit: candidate.head,
        rebased: candidate.rebased,
        ok,
        conflict: null,
        flakeError,
        hosts,
        summary:
          flakeError !== null
            ? flakeSummary(flakeError)
            : candidate.empty
              ? 'no change: the branch head has every change of this draft already'
              : hostsSummary(hosts),
        checkedAt: this.options.clock.now().toISOString(),
      };
    });
  }

  /** The answer of a check whose draft conflicts with the branch head. */
  conflictCheck(
    candidate: Extract<Candidate, { kind: 'conflict' }>,
    draft: { revision: number; baseCommit: string },
  ): DraftCheck {
    const paths = candidate.conflict.files.map((file) => file.path);
    return {
      draftRevision: draft.revision,
      baseCommit: draft.baseCommit,
      headCommit: candidate.head,
      rebased: true,
      ok: false,
      conflict: candidate.conflict,
      flakeError: null,
      hosts: [],
      summary: `conflicts with the branch head in ${paths.length} file${paths.length === 1 ? '' : 's'}: ${paths.join(', ')}`,
      checkedAt: this.options.clock.now().toISOString(),
    };
  }

  /**
   * The branch head's hosts: the pipeline's evaluation of that revision when it has one,
   * otherwise evaluated here; null when the head's flake does not evaluate at all.
   */
  private headEvaluation(link: RepositoryLinkRow, head: string): Promise<HostsEvaluation | null> {
    let found = this.heads.get(head);
    if (found === undefined) {
      found = this.evaluateHead(link, head);
      found.catch(() => this.heads.delete(head));
      if (this.heads.size >= HEAD_CACHE) this.heads.delete(this.heads.keys().next().value ?? '');
      this.heads.set(head, found);
    }
    return found;
  }

  private async evaluateHead(
    link: RepositoryLinkRow,
    head: string,
  ): Promise<HostsEvaluation | null> {
    const ref = branchRef(link);
    const revision = await this.options.revisions.findByRef(link.id, ref, head);
    if (revision?.status === 'evaluated') {
      const stored = parseEvaluation(revision.evaluation_json);
      if (stored !== null) return stored;
    }
    if (revision?.status === 'failed') return null;
    try {
      return await this.options.pipeline.evaluateCommit(link, { ref, sha: head });
    } catch (error) {
      if (error instanceof FlotillaError && error.code === 'evaluation_failed') return null;
      throw error;
    }
  }
}

/** The ref of the mirror a draft's candidate commit is kept under while it is needed. */
export function candidateRef(purpose: 'check' | 'commit', draftId: string): string {
  return `refs/flotilla/editor-${purpose}/${draftId}`;
}

function flakeSummary(error: HostEvaluationError): string {
  const where = error.location === null ? '' : ` (${formatNixErrorLocation(error.location)})`;
  return `the flake does not evaluate: ${error.message}${where}`;
}
