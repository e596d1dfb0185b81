import { FlotillaError } from '@flotilla/protocol';
import type { GitClient } from '../git/git.client.js';
import type { RepositoryLinkRow } from '../storage/repository-link.repository.js';

/** What the editor needs of the linked repository: its link and its mirror's client. */
export interface EditorMirror {
  mirror(): Promise<{ link: RepositoryLinkRow; git: GitClient }>;
}

/** The ref the mirror keeps the tracked branch under. */
export function branchRef(link: Pick<RepositoryLinkRow, 'branch'>): string {
  return `refs/heads/${link.branch}`;
}

/**
 * The branch head in the mirror (as of its last sync), or `commit` when it is a commit of
 * the branch: an ancestor of the head, or of the commit the pipeline follows (a head that
 * was rewritten and is not followed). Anything else is refused, so the editor never reads
 * or builds on a pull request's or another ref's commits.
 */
export async function resolveCommit(
  git: GitClient,
  link: RepositoryLinkRow,
  commit?: string,
): Promise<string> {
  const head = await git.revParse(branchRef(link));
  if (head === undefined) {
    throw new FlotillaError(
      'ref_not_found',
      `the mirror has no branch ${link.branch} yet: sync the repository first`,
    );
  }
  if (commit === undefined || commit === head) return head;
  if (await git.hasCommit(commit)) {
    for (const tip of [head, link.followed_sha]) {
      if (tip !== null && (await git.isAncestor(commit, tip))) return commit;
    }
  }
  throw new FlotillaError(
    'revision_not_found',
    `${commit} is not a commit of branch ${link.branch}`,
  );
}
