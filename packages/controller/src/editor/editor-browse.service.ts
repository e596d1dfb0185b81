import {
  EDITOR_LIMITS,
  FlotillaError,
  type EditorFile,
  type EditorFileQuery,
  type EditorTree,
  type EditorTreeEntry,
  type EditorTreeQuery,
} from '@flotilla/protocol';
import { GitObjects, type TreeEntry } from '../git/git-objects.js';
import { isRegularFileMode } from './draft-paths.js';
import { resolveCommit, type EditorMirror } from './editor-mirror.js';

/**
 * Browsing the tracked branch: its tree and its text files, at the head of the mirror or
 * at a commit of the branch. Reads the mirror only; nothing is fetched here.
 */
export class EditorBrowser {
  constructor(private readonly repository: EditorMirror) {}

  async tree(query: EditorTreeQuery): Promise<EditorTree> {
    const { link, git } = await this.repository.mirror();
    const commit = await resolveCommit(git, link, query.commit);
    const listing = await new GitObjects(git).listTree(commit, query.path, {
      recursive: query.recursive === 'true',
      limit: EDITOR_LIMITS.treeEntries,
    });
    if (listing === undefined) {
      throw new FlotillaError('file_not_found', `no directory ${query.path} at ${commit}`);
    }
    return {
      branch: link.branch,
      commit,
      flakeDir: link.flake_dir,
      path: query.path,
      entries: listing.entries.map(toTreeEntry),
      truncated: listing.truncated,
    };
  }

  async file(query: EditorFileQuery): Promise<EditorFile> {
    const { link, git } = await this.repository.mirror();
    const commit = await resolveCommit(git, link, query.commit);
    const objects = new GitObjects(git);
    const entry = await objects.entry(commit, query.path);
    if (entry === undefined || entry.type === 'tree') {
      throw new FlotillaError('file_not_found', `no file ${query.path} at ${commit}`);
    }
    if (entry.type !== 'blob' || !isRegularFileMode(entry.mode)) {
      throw new FlotillaError(
        'file_not_text',
        `${query.path} is a ${entry.type === 'commit' ? 'submodule' : 'symbolic link'}; the editor changes regular files only`,
      );
    }
    const read = await objects.readText(entry.oid, EDITOR_LIMITS.fileBytes);
    if (!read.ok) throw unreadable(query.path, read);
    return {
      path: query.path,
      commit,
      blob: entry.oid,
      mode: entry.mode,
      size: Buffer.byteLength(read.content, 'utf8'),
      content: read.content,
    };
  }
}

/** The error for a file the editor does not open: too large, or not UTF-8 text. */
export function unreadable(
  path: string,
  read: { reason: 'not_text' | 'too_large'; size: number },
): FlotillaError {
  return read.reason === 'too_large'
    ? new FlotillaError(
        'file_too_large',
        `${path} has ${read.size} bytes; the editor opens files of up to ${EDITOR_LIMITS.fileBytes}`,
        { size: read.size, limit: EDITOR_LIMITS.fileBytes },
      )
    : new FlotillaError('file_not_text', `${path} is not UTF-8 text`);
}

function toTreeEntry(entry: TreeEntry): EditorTreeEntry {
  const type =
    entry.type === 'tree'
      ? 'directory'
      : entry.type === 'commit'
        ? 'submodule'
        : entry.mode === '120000'
          ? 'symlink'
          : 'file';
  return { path: entry.path, type, mode: entry.mode, size: entry.size };
}
