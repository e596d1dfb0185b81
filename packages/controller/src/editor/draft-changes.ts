import { EDITOR_LIMITS, FlotillaError, type SaveDraftFileRequest } from '@flotilla/protocol';
import { blobId, type TreeEntry } from '../git/git-objects.js';
import type { DraftFileRow } from '../storage/draft.repository.js';
import { addedPathProblem, isRegularFileMode, type TreePaths } from './draft-paths.js';

/** The tree a draft is made against: every entry by path. */
export interface BaseTree {
  entries: ReadonlyMap<string, TreeEntry>;
  paths: TreePaths;
}

/** A base tree from a recursive listing of a commit. */
export function baseTreeOf(entries: readonly TreeEntry[]): BaseTree {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const entry of entries) (entry.type === 'tree' ? dirs : files).add(entry.path);
  return { entries: new Map(entries.map((entry) => [entry.path, entry])), paths: { files, dirs } };
}

/** One requested change of a draft's file: write, delete, or revert to the base. */
export type FileChange = Pick<SaveDraftFileRequest, 'op' | 'path'> & { content?: string };

/**
 * Applies one change to a draft's files (path → row), checked against the base tree:
 * writing the base's own content, or deleting a file only the draft adds, leaves no change
 * behind; a directory, a symbolic link or a submodule cannot be written; a new file must
 * fit the tree (see `addedPathProblem`). Throws with a stable code when the change is
 * refused; `files` is unchanged then.
 */
export function applyChange(
  files: Map<string, DraftFileRow>,
  change: FileChange,
  base: BaseTree,
  draftId: string,
): void {
  const { path } = change;
  const entry = base.entries.get(path);
  if (change.op === 'revert') {
    if (files.get(path)?.kind === 'deleted') {
      const below = [...files.values()].find(
        (f) => f.kind === 'added' && f.path.startsWith(`${path}/`),
      );
      if (below) refuse(`${path} cannot come back while the draft adds ${below.path}`);
    }
    files.delete(path);
    return;
  }
  if (entry?.type === 'tree') refuse(`${path} is a directory`);
  if (entry?.type === 'commit') refuse(`${path} is a submodule`);
  if (change.op === 'delete') {
    if (entry !== undefined) {
      files.set(path, {
        draft_id: draftId,
        path,
        kind: 'deleted',
        content: null,
        size: 0,
        base_blob: entry.oid,
        base_mode: entry.mode,
      });
    } else if (files.get(path)?.kind === 'added') {
      files.delete(path);
    } else {
      throw new FlotillaError('file_not_found', `no file ${path} to delete`);
    }
    return;
  }
  const content = change.content ?? '';
  checkContent(path, content);
  if (entry !== undefined) {
    if (entry.type !== 'blob' || !isRegularFileMode(entry.mode)) {
      throw new FlotillaError('file_not_text', `${path} is not a regular file`);
    }
    if (blobId(content, entry.oid.length) === entry.oid) {
      files.delete(path); // back to the base's content: no change
      return;
    }
    files.set(path, row(draftId, path, 'modified', content, entry));
    return;
  }
  const others = {
    deleted: new Set([...files.values()].filter((f) => f.kind === 'deleted').map((f) => f.path)),
    added: new Set(
      [...files.values()].filter((f) => f.kind === 'added' && f.path !== path).map((f) => f.path),
    ),
  };
  const problem = addedPathProblem(path, base.paths, others);
  if (problem !== undefined) refuse(`${path} cannot be added: ${problem}`);
  files.set(path, row(draftId, path, 'added', content, undefined));
}

/** Refuses a draft over the limits of EDITOR_LIMITS (files, bytes). */
export function checkDraftLimits(files: ReadonlyMap<string, DraftFileRow>): void {
  if (files.size > EDITOR_LIMITS.draftFiles) {
    refuse(`a draft changes at most ${EDITOR_LIMITS.draftFiles} files`);
  }
  const bytes = [...files.values()].reduce((sum, file) => sum + Number(file.size), 0);
  if (bytes > EDITOR_LIMITS.draftBytes) {
    throw new FlotillaError(
      'payload_too_large',
      `a draft holds at most ${EDITOR_LIMITS.draftBytes} bytes of new content; this one ${bytes}`,
    );
  }
}

/** New content must be text the editor can show: no NUL, within the file limit. */
function checkContent(path: string, content: string): void {
  if (content.includes('\0')) {
    throw new FlotillaError('file_not_text', `the new content of ${path} contains a NUL character`);
  }
  const size = Buffer.byteLength(content, 'utf8');
  if (size > EDITOR_LIMITS.fileBytes) {
    throw new FlotillaError(
      'file_too_large',
      `the new content of ${path} has ${size} bytes; at most ${EDITOR_LIMITS.fileBytes}`,
      { size, limit: EDITOR_LIMITS.fileBytes },
    );
  }
}

function row(
  draftId: string,
  path: string,
  kind: 'added' | 'modified',
  content: string,
  base: TreeEntry | undefined,
): DraftFileRow {
  return {
    draft_id: draftId,
    path,
    kind,
    content,
    size: Buffer.byteLength(content, 'utf8'),
    base_blob: base?.oid ?? null,
    base_mode: base?.mode ?? null,
  };
}

function refuse(message: string): never {
  throw new FlotillaError('validation_failed', message);
}
