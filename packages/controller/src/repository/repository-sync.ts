import { FlotillaError, type SyncReason } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { GitClient } from '../git/git.client.js';
import { redact } from '../git/redact.js';
import { branchRefspec, refspecsFor } from '../git/ref-patterns.js';
import type { EventRepository } from '../storage/event.repository.js';
import type {
  RepositoryLinkRepository,
  RepositoryLinkRow,
} from '../storage/repository-link.repository.js';
import type { RevisionRow } from '../storage/revision.repository.js';
import type { RevisionRecorder } from './revision.recorder.js';

/** Which refs may be previewed, and which are previewed without being asked. */
export interface PreviewSettings {
  refPatterns: readonly string[];
  autoRefPatterns: readonly string[];
  /** Paths (relative to the repository root or the flake directory); empty: any change. */
  autoWhenChanged: readonly string[];
}

export interface SyncPassOptions {
  links: RepositoryLinkRepository;
  events: EventRepository;
  recorder: RevisionRecorder;
  clock: Clock;
  logger: Logger;
}

export interface SyncOutcome {
  headSha: string;
  /** Revisions this pass created, in discovery order. */
  newRevisions: RevisionRow[];
  forcePush: { from: string; to: string; followed: boolean } | null;
}

/** Where the mirror keeps the followed commit, so a force push cannot let gc remove it. */
const FOLLOWED_REF = 'refs/flotilla/followed';

/**
 * One sync of one repository: fetch, follow the branch if it moved forward (or report a
 * rewrite), then record automatic previews. Callers serialize passes per repository.
 */
export class RepositorySyncPass {
  /** Per repository: ref → the head last judged for an automatic preview. In memory only:
   * after a restart each head is judged once more, which finds the revisions it recorded. */
  private readonly judged = new Map<string, Map<string, string>>();

  constructor(private readonly options: SyncPassOptions) {}

  async run(
    link: RepositoryLinkRow,
    git: GitClient,
    previews: PreviewSettings,
    reason: SyncReason,
    secrets: readonly (string | undefined)[],
  ): Promise<SyncOutcome> {
    const headSha = await this.fetch(link, git, previews, reason, secrets);
    const branch = await this.followBranch(link, git, headSha, reason);
    const followed = branch.followed ? headSha : link.followed_sha;
    const previewsFound = await this.autoPreviews(link, git, previews, followed, headSha, reason);
    return {
      headSha,
      newRevisions: [...branch.newRevisions, ...previewsFound],
      forcePush: branch.forcePush,
    };
  }

  /** Fetches and returns the branch head; records the fetch's time and outcome either way. */
  private async fetch(
    link: RepositoryLinkRow,
    git: GitClient,
    previews: PreviewSettings,
    reason: SyncReason,
    secrets: readonly (string | undefined)[],
  ): Promise<string> {
    const { links, clock, logger } = this.options;
    const at = clock.now().toISOString();
    try {
      const polled = previews.autoRefPatterns.filter((p) => !isPullRequestRef(p));
      await git.fetch([branchRefspec(link.branch), ...refspecsFor(polled)]);
      const head = await git.revParse(`refs/heads/${link.branch}`);
      if (head === undefined) {
        throw new FlotillaError('git_failed', `branch ${link.branch} is missing after the fetch`);
      }
      await links.update(link.id, { last_fetch_at: at, last_fetch_error: null, updated_at: at });
      logger.debug({ repository: link.id, reason, head }, 'repository fetched');
      return head;
    } catch (error) {
      // Git errors are redacted already; anything else (a file system error) is, here.
      const message = redact(error instanceof Error ? error.message : String(error), secrets);
      await links.update(link.id, { last_fetch_at: at, last_fetch_error: message, updated_at: at });
      throw error instanceof FlotillaError ? error : new FlotillaError('git_failed', message);
    }
  }

  private async followBranch(
    link: RepositoryLinkRow,
    git: GitClient,
    head: string,
    reason: SyncReason,
  ): Promise<{
    followed: boolean;
    newRevisions: RevisionRow[];
    forcePush: SyncOutcome['forcePush'];
  }> {
    const { links, clock } = this.options;
    const from = link.followed_sha;
    if (from === head) {
      // Back where we were (a rewrite was undone): nothing is blocked any more.
      if (link.force_push_sha !== null) {
        const at = clock.now().toISOString();
        await links.update(link.id, { force_push_sha: null, force_push_at: null, updated_at: at });
      }
      return { followed: false, newRevisions: [], forcePush: null };
    }
    const fastForward =
      from === null || ((await git.hasCommit(from)) && (await git.isAncestor(from, head)));
    if (fastForward) {
      return {
        followed: true,
        newRevisions: await this.follow(link, git, head, reason),
        forcePush: null,
      };
    }
    const allowed = Number(link.allow_force_push) === 1;
    await this.reportForcePush(link, from, head, allowed);
    const forcePush = { from, to: head, followed: allowed };
    if (!allowed) return { followed: false, newRevisions: [], forcePush };
    return { followed: true, newRevisions: await this.follow(link, git, head, reason), forcePush };
  }

  private async follow(
    link: RepositoryLinkRow,
    git: GitClient,
    head: string,
    reason: SyncReason,
  ): Promise<RevisionRow[]> {
    const { links, recorder, clock, logger } = this.options;
    const { row, created } = await recorder.record({
      git,
      repositoryId: link.id,
      ref: `refs/heads/${link.branch}`,
      sha: head,
      kind: 'branch',
      baseRevisionId: await recorder.branchRevisionId(link.id, link.branch, link.followed_sha),
      actor: 'git',
      reason,
    });
    await git.updateRef(FOLLOWED_REF, head);
    const at = clock.now().toISOString();
    await links.update(link.id, {
      followed_sha: head,
      force_push_sha: null,
      force_push_at: null,
      updated_at: at,
    });
    logger.info(
      { repository: link.id, reason, from: link.followed_sha, to: head, revisionId: row.id },
      'following new branch head',
    );
    return created ? [row] : [];
  }

  /** Records a rewritten head once: as an event, and as the blocked head unless followed. */
  private async reportForcePush(
    link: RepositoryLinkRow,
    from: string,
    to: string,
    followed: boolean,
  ): Promise<void> {
    if (link.force_push_sha === to) return;
    const { links, events, clock, logger } = this.options;
    const at = clock.now().toISOString();
    await events.append([
      {
        at,
        kind: 'repository.force_push',
        actor: 'git',
        data: { repositoryId: link.id, branch: link.branch, from, to, followed },
      },
    ]);
    if (!followed) {
      await links.update(link.id, { force_push_sha: to, force_push_at: at, updated_at: at });
    }
    logger.warn(
      { repository: link.id, branch: link.branch, from, to, followed },
      followed
        ? 'branch was rewritten (force push); following it as allowed'
        : 'branch was rewritten (force push); not following it',
    );
  }

  /** Records a preview for every auto-previewed ref whose head is new and qualifies. */
  private async autoPreviews(
    link: RepositoryLinkRow,
    git: GitClient,
    previews: PreviewSettings,
    followed: string | null,
    head: string,
    reason: SyncReason,
  ): Promise<RevisionRow[]> {
    if (previews.autoRefPatterns.length === 0) return [];
    const { recorder, logger } = this.options;
    const branchRef = `refs/heads/${link.branch}`;
    // A pull request's head is previewed automatically only when GitHub said it comes
    // from the repository itself (autoPreviewPullRequest), never because polling saw it.
    const refs = (await git.listRefs(previews.autoRefPatterns)).filter(
      (r) => r.ref !== branchRef && !isPullRequestRef(r.ref),
    );
    const before = this.judged.get(link.id) ?? new Map<string, string>();
    const after = new Map<string, string>();
    this.judged.set(link.id, after);
    const baseSha = followed ?? head;
    const baseRevisionId = await recorder.branchRevisionId(link.id, link.branch, followed);
    const created: RevisionRow[] = [];
    for (const { ref, sha } of refs) {
      if (before.get(ref) === sha) {
        after.set(ref, sha);
        continue;
      }
      try {
        const row = await this.autoPreview(link, git, previews, {
          ref,
          sha,
          baseSha,
          baseRevisionId,
          actor: 'git',
          reason,
        });
        if (row) created.push(row);
        after.set(ref, sha);
      } catch (error) {
        // One bad ref must not hide the others; it is judged again on the next sync.
        logger.warn({ repository: link.id, ref, sha, err: error }, 'automatic preview failed');
      }
    }
    return created;
  }

  /**
   * Records an automatic preview of `ref` at `sha` when it changes a watched path; returns
   * the revision when it is new. The caller decided that the ref may be previewed.
   */
  async autoPreview(
    link: RepositoryLinkRow,
    git: GitClient,
    previews: PreviewSettings,
    target: {
      ref: string;
      sha: string;
      baseSha: string;
      baseRevisionId: string | null;
      actor: string;
      reason: SyncReason;
    },
  ): Promise<RevisionRow | undefined> {
    const { ref, sha, baseSha, baseRevisionId, actor, reason } = target;
    if (!(await this.qualifies(git, previews, link.flake_dir, baseSha, sha))) {
      this.options.logger.debug(
        { repository: link.id, ref, sha },
        'no watched path changed; no preview',
      );
      return undefined;
    }
    const result = await this.options.recorder.record({
      git,
      repositoryId: link.id,
      ref,
      sha,
      kind: 'preview',
      baseRevisionId,
      actor,
      reason,
    });
    return result.created ? result.row : undefined;
  }

  private async qualifies(
    git: GitClient,
    previews: PreviewSettings,
    flakeDir: string,
    baseSha: string,
    sha: string,
  ): Promise<boolean> {
    if (previews.autoWhenChanged.length === 0) return true;
    const mergeBase = await git.mergeBase(baseSha, sha);
    const files = await git.changedFiles(mergeBase, sha);
    return touchesWatchedPath(files, previews.autoWhenChanged, flakeDir);
  }
}

/**
 * Whether any changed file is one of `watched` or lies under one of them. Watched paths are
 * taken relative to the repository root and, when set, to the flake directory too (so
 * `flake.lock` means the flake's lock file wherever the flake lives).
 */
export function touchesWatchedPath(
  files: readonly string[],
  watched: readonly string[],
  flakeDir: string,
): boolean {
  const dir = flakeDir.replace(/^\/+|\/+$/g, '');
  const roots = dir === '' ? [''] : ['', `${dir}/`];
  const targets = watched.flatMap((path) =>
    roots.map((root) => `${root}${path.replace(/^\/+|\/+$/g, '')}`),
  );
  return files.some((file) =>
    targets.some((target) => file === target || file.startsWith(`${target}/`)),
  );
}

/** `refs/pull/…`: GitHub's refs of pull requests, forks' included. */
export function isPullRequestRef(ref: string): boolean {
  return ref.startsWith('refs/pull/');
}
