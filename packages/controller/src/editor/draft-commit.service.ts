import {
  FlotillaError,
  type CheckDraftRequest,
  type CommitDraftRequest,
  type CommitDraftResult,
  type DraftCheck,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { GitIdentity } from '../git/git-objects.js';
import type { GitClient } from '../git/git.client.js';
import type { DraftFileRow, DraftRow } from '../storage/draft.repository.js';
import type { RepositoryLinkRow } from '../storage/repository-link.repository.js';
import type { Store } from '../storage/store.js';
import { candidateRef, type Candidate, type DraftChecker } from './draft-check.js';
import { authorOf } from './draft-paths.js';
import { busy, DRAFTS_CHANGED, requireRevision, type DraftService } from './draft.service.js';
import { toDraftFile } from './draft.view.js';
import { branchRef, type EditorMirror } from './editor-mirror.js';

export interface DraftCommitterOptions {
  store: Store;
  repository: EditorMirror & { sync(reason: 'editor'): Promise<unknown> };
  checker: DraftChecker;
  drafts: Pick<DraftService, 'owned'>;
  clock: Clock;
  logger: Logger;
  /** Told when a draft is checked, committed or open again after a failed push (`drafts.changed`). */
  live: LiveEvents;
}

/** Pushes tried when the branch moved between fetching and pushing (each re-checks). */
const PUSH_ATTEMPTS = 3;

/**
 * Checks and commits drafts. A commit is made as the logged-in user on the branch head
 * just fetched (the draft merged onto it when the branch moved), evaluated exactly as it
 * will be pushed, and pushed without force: a branch that moved meanwhile refuses it, and
 * the whole round (fetch, merge, check) runs again.
 *
 * Crash safety — a push and a database write cannot be one transaction, so the order is:
 * 1. the draft row records the commit it is about to push (`status = 'pushing'`,
 *    `pending_commit`), while the commit stays reachable from a ref of the mirror;
 * 2. the push;
 * 3. one transaction removes the draft and appends the `editor.committed` audit entry,
 *    conditional on the row still pushing that very commit.
 * Stopped after 1 (before or after 2), the controller finds the row `pushing` on start (or
 * when someone opens the draft) and settles it: after a fetch, the commit on the branch
 * means the push happened, and step 3 runs (once: it is conditional); otherwise the draft
 * is open again with its changes, and an `editor.push_failed` entry says so. Nothing is
 * pushed twice (the push is never repeated blindly, and a re-commit of changes the branch
 * already has is `draft_empty`), and no edit is lost (the draft is removed only in step 3).
 */
export class DraftCommitter {
  /** Drafts being committed or settled by this process. */
  private readonly busy = new Set<string>();
  private readonly settling = new Set<Promise<boolean>>();

  constructor(private readonly options: DraftCommitterOptions) {}

  /** Settles the drafts a stopped controller left pushing, in the background. */
  async start(): Promise<void> {
    for (const row of await this.options.store.drafts.pushing()) {
      const settled = this.settle(row);
      this.settling.add(settled);
      void settled.finally(() => this.settling.delete(settled));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.settling]);
  }

  /**
   * Evaluates a draft applied to the branch head of the mirror (no fetch, no push) and
   * keeps the answer on the draft.
   */
  async check(principal: Principal, id: string, request: CheckDraftRequest): Promise<DraftCheck> {
    const { store, repository } = this.options;
    const row = await this.options.drafts.owned(principal, id);
    if (request.revision !== undefined) requireRevision(row, request.revision);
    const files = await store.drafts.files(id);
    const { link, git } = await repository.mirror();
    const ref = candidateRef('check', id);
    try {
      const candidate = await this.options.checker.candidate(git, link, draftOf(row, files), {
        ref,
        message: row.message.trim() || `Draft ${id}`,
        author: authorOf(principal.user.username),
      });
      const check = await this.checkOf(link, candidate, row);
      await store.drafts.saveCheck(id, row.revision, JSON.stringify(check));
      this.options.live.publish(DRAFTS_CHANGED);
      return check;
    } finally {
      await git.deleteRef(ref).catch(() => undefined);
    }
  }

  /** Checks, commits and pushes a draft (see the class comment for the order of writes). */
  async commit(
    principal: Principal,
    id: string,
    request: CommitDraftRequest,
    actor: string,
  ): Promise<CommitDraftResult> {
    const row = await this.options.drafts.owned(principal, id);
    requireRevision(row, request.revision);
    // Checked and taken with no await between: a second commit of the draft is refused.
    if (row.status !== 'open' || this.busy.has(id)) throw busy(id);
    this.busy.add(id);
    try {
      const message = (request.message ?? row.message).trim();
      if (message === '') {
        throw new FlotillaError('validation_failed', 'a commit message is required');
      }
      const files = await this.options.store.drafts.files(id);
      if (files.length === 0) throw new FlotillaError('draft_empty', `draft ${id} changes nothing`);
      await this.options.repository.sync('editor');
      for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt += 1) {
        const result = await this.attempt(principal, row, files, message, actor);
        if (result !== 'moved') return result;
        await this.options.repository.sync('editor');
      }
      throw new FlotillaError(
        'git_failed',
        `the branch moved during each of ${PUSH_ATTEMPTS} attempts to push; try again`,
      );
    } finally {
      this.busy.delete(id);
    }
  }

  /**
   * One round: the candidate on the fetched head, its check, the intent, the push. 'moved'
   * when the remote refused the push because its branch moved (the draft is open again).
   */
  private async attempt(
    principal: Principal,
    row: DraftRow,
    files: readonly DraftFileRow[],
    message: string,
    actor: string,
  ): Promise<CommitDraftResult | 'moved'> {
    const { store, clock } = this.options;
    const { link, git } = await this.options.repository.mirror();
    const ref = candidateRef('commit', row.id);
    const author = authorOf(principal.user.username);
    const { candidate, check } = await this.prepare(git, link, row, files, {
      ref,
      message,
      author,
      actor,
    }).catch(async (error: unknown) => {
      // Nothing is pushed: the candidate commit is not needed any more.
      await git.deleteRef(ref).catch(() => undefined);
      throw error;
    });
    const pushing: DraftRow = {
      ...row,
      status: 'pushing',
      message,
      pending_commit: candidate.commit,
      pending_parent: candidate.head,
      pending_actor: actor,
    };
    let recorded = false;
    try {
      await git.push(candidate.commit, link.branch);
    } catch (error) {
      if (error instanceof FlotillaError && isRejection(error.message)) {
        await store.drafts.reopen(row.id, candidate.commit, clock.now().toISOString());
        this.options.live.publish(DRAFTS_CHANGED);
        await git.deleteRef(ref).catch(() => undefined);
        return 'moved';
      }
      // The push may have reached the remote before it failed (a timeout, a lost
      // connection): what the branch holds now decides, not the error. Settling records
      // the commit when it is there.
      if (!(await this.settle(pushing, error))) throw error;
      recorded = true;
    }
    if (!recorded) {
      await this.record(pushing, files, false);
      await git.deleteRef(ref).catch(() => undefined);
    }
    await this.options.repository.sync('editor').catch((error: unknown) => {
      this.options.logger.warn(
        { err: error, commit: candidate.commit },
        'sync after a push failed',
      );
    });
    return {
      commit: candidate.commit,
      parent: candidate.head,
      branch: link.branch,
      rebased: candidate.rebased,
      author: `${author.name} <${author.email}>`,
      message,
      check,
    };
  }

  /**
   * Steps before the push: the candidate on the fetched head and its check (kept on the
   * draft), refused when it conflicts, changes nothing or fails; then step 1, the intent.
   */
  private async prepare(
    git: GitClient,
    link: RepositoryLinkRow,
    row: DraftRow,
    files: readonly DraftFileRow[],
    commit: { ref: string; message: string; author: GitIdentity; actor: string },
  ): Promise<{ candidate: Extract<Candidate, { kind: 'commit' }>; check: DraftCheck }> {
    const { store, checker, clock } = this.options;
    const candidate = await checker.candidate(git, link, draftOf(row, files), commit);
    const check = await this.checkOf(link, candidate, row);
    await store.drafts.saveCheck(row.id, row.revision, JSON.stringify(check));
    this.options.live.publish(DRAFTS_CHANGED);
    if (candidate.kind === 'conflict' || candidate.empty || !check.ok) {
      throw refused(row.id, candidate, check);
    }
    const pending = {
      commit: candidate.commit,
      parent: candidate.head,
      actor: commit.actor,
      message: commit.message,
      at: clock.now().toISOString(),
    };
    if (!(await store.drafts.markPushing(row.id, row.revision, pending))) {
      throw new FlotillaError('draft_stale', `draft ${row.id} changed while it was checked`);
    }
    return { candidate, check };
  }

  /**
   * Decides a draft left pushing: fetched, is its commit on the branch? Yes: recorded as
   * committed. No: open again, with an `editor.push_failed` entry. Returns whether it was
   * pushed; a failure to find out leaves it pushing (tried again on the next start or read).
   */
  async settle(row: DraftRow, pushError?: unknown): Promise<boolean> {
    const pending = row.pending_commit;
    if (row.status !== 'pushing' || pending === null) return false;
    if (pushError === undefined && this.busy.has(row.id)) return false;
    const { store, clock, logger } = this.options;
    try {
      await this.options.repository.sync('editor');
      const { link, git } = await this.options.repository.mirror();
      const pushed = await onBranch(git, link, pending);
      if (pushed) {
        await this.record(row, await store.drafts.files(row.id), true);
      } else {
        const at = clock.now().toISOString();
        const reason =
          pushError instanceof Error ? pushError.message : 'the controller stopped while pushing';
        await store.transaction(async (tx) => {
          if (!(await tx.drafts.reopen(row.id, pending, at))) return;
          this.options.live.publish(DRAFTS_CHANGED, tx);
          await tx.events.append([
            {
              at,
              kind: 'editor.push_failed',
              actor: row.pending_actor ?? 'editor',
              data: { draftId: row.id, branch: row.branch, commit: pending, reason },
            },
          ]);
        });
      }
      await git.deleteRef(candidateRef('commit', row.id)).catch(() => undefined);
      return pushed;
    } catch (error) {
      logger.warn(
        { err: error, draftId: row.id, commit: pending },
        'could not tell whether a draft was pushed; it stays pushing and is looked at again',
      );
      return false;
    }
  }

  /** Step 3: the draft is gone and the audit log says what was committed, in one transaction. */
  private async record(
    row: DraftRow,
    files: readonly DraftFileRow[],
    recovered: boolean,
  ): Promise<void> {
    const { store, clock } = this.options;
    const pending = row.pending_commit;
    if (pending === null) return;
    const at = clock.now().toISOString();
    await store.transaction(async (tx) => {
      if (!(await tx.drafts.remove(row.id, pending))) return;
      this.options.live.publish(DRAFTS_CHANGED, tx);
      await tx.events.append([
        {
          at,
          kind: 'editor.committed',
          actor: row.pending_actor ?? 'editor',
          data: {
            draftId: row.id,
            branch: row.branch,
            commit: pending,
            parent: row.pending_parent,
            baseCommit: row.base_commit,
            rebased: row.pending_parent !== row.base_commit,
            message: row.message,
            paths: files.map((file) => file.path),
            recovered,
          },
        },
      ]);
    });
  }

  private async checkOf(
    link: RepositoryLinkRow,
    candidate: Candidate,
    row: DraftRow,
  ): Promise<DraftCheck> {
    const draft = { revision: Number(row.revision), baseCommit: row.base_commit };
    return candidate.kind === 'conflict'
      ? this.options.checker.conflictCheck(candidate, draft)
      : this.options.checker.evaluate(link, candidate, draft);
  }
}

function draftOf(row: DraftRow, files: readonly DraftFileRow[]) {
  return { baseCommit: row.base_commit, files: files.map(toDraftFile) };
}

/** Why a checked candidate is not pushed. */
function refused(id: string, candidate: Candidate, check: DraftCheck): FlotillaError {
  if (candidate.kind === 'conflict') {
    const count = candidate.conflict.files.length;
    return new FlotillaError(
      'draft_conflict',
      `the branch moved and ${count} file${count === 1 ? '' : 's'} of the draft conflict with it; the draft is kept`,
      candidate.conflict,
    );
  }
  if (candidate.empty) {
    return new FlotillaError('draft_empty', `the branch has every change of draft ${id} already`);
  }
  return new FlotillaError('draft_check_failed', `nothing was pushed: ${check.summary}`, check);
}

/** Git's words for a push the remote refused because its branch moved. */
function isRejection(message: string): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|\(stale info\)/i.test(message);
}

/** Whether `commit` is on the branch head of the mirror (fetched just before). */
async function onBranch(git: GitClient, link: RepositoryLinkRow, commit: string): Promise<boolean> {
  const head = await git.revParse(branchRef(link));
  if (head === undefined || !(await git.hasCommit(commit))) return false;
  return git.isAncestor(commit, head);
}
