/** Where files may go in a tree a draft changes. Pure: no git, no database. */

/** The files (blobs, symlinks, submodules) and directories of a tree, by path. */
export interface TreePaths {
  files: ReadonlySet<string>;
  dirs: ReadonlySet<string>;
}

/** What else the draft does: the paths it deletes and the paths it adds. */
export interface DraftPaths {
  deleted: ReadonlySet<string>;
  added: ReadonlySet<string>;
}

/**
 * Why a draft may not add a file at `path` to `tree`, or undefined when it may. A file
 * cannot take the place of a directory, nor sit below a file (`flake.nix/x`) unless the
 * draft deletes that file, nor be a directory of another file the draft adds. Git would
 * refuse such a tree; saying so at save time keeps the draft committable.
 */
export function addedPathProblem(
  path: string,
  tree: TreePaths,
  draft: DraftPaths,
): string | undefined {
  if (tree.dirs.has(path)) return `${path} is a directory`;
  const segments = path.split('/');
  for (let end = 1; end < segments.length; end += 1) {
    const prefix = segments.slice(0, end).join('/');
    if (tree.files.has(prefix) && !draft.deleted.has(prefix)) return `${prefix} is a file`;
    if (draft.added.has(prefix)) return `the draft adds ${prefix} as a file`;
  }
  for (const other of draft.added) {
    if (other.startsWith(`${path}/`)) return `the draft adds ${other} below it`;
  }
  return undefined;
}

/** The mode of a regular file git stores: plain or executable. */
export function isRegularFileMode(mode: string): boolean {
  return mode === '100644' || mode === '100755';
}

/**
 * The identity a commit made in the editor is authored with: the user's name and
 * `<username>@flotilla.invalid` (users have no e-mail address; `.invalid` is reserved and
 * never delivers, so no one else's account is credited on a forge).
 */
export function authorOf(username: string): { name: string; email: string } {
  return { name: username, email: `${username}@flotilla.invalid` };
}

/** The controller, as the committer of every commit it makes for a person. */
export const CONTROLLER_COMMITTER = { name: 'Flotilla', email: 'flotilla@flotilla.invalid' };
