import {
  EDITOR_LIMITS,
  type DraftConflict,
  type DraftConflictFile,
  type DraftConflictReason,
} from '@flotilla/protocol';
import { blobId, type GitObjects, type TreeEntry } from '../git/git-objects.js';
import { addedPathProblem, isRegularFileMode, type TreePaths } from './draft-paths.js';

/** One file of a draft, as stored. */
export interface DraftFile {
  path: string;
  /** The new content; null for a deletion. */
  content: string | null;
  /** The file at the draft's base; null when the draft adds it. */
  baseBlob: string | null;
  baseMode: string | null;
}

/** A file of the draft as it lands on the target commit. */
export interface AppliedFile {
  path: string;
  /** The final content; null when the file is deleted (or stays absent). */
  content: string | null;
  /** The file at the target commit; null when it has none. */
  target: { oid: string; mode: string } | null;
  /** The mode the file gets. */
  mode: string;
}

export type ApplyResult =
  { ok: true; files: AppliedFile[]; rebased: boolean } | { ok: false; conflict: DraftConflict };

/** Versions of a file are merged line by line up to this size (bigger ones conflict). */
const MERGE_LIMIT_BYTES = 4 * EDITOR_LIMITS.fileBytes;

/**
 * Applies a draft made on `baseCommit` to `headCommit`, file by file, as a rebase of one
 * commit would: a file the branch did not touch since the base takes the draft's version;
 * a file both changed is merged three-way (`git merge-file`, base → branch and base →
 * draft) and conflicts when the changes overlap; deleting what the other side changed,
 * adding what the other side added differently, or a file where the branch now has a
 * directory conflicts too. `resolutions` (path → final content, null to delete) settle
 * files a person resolved. Either every file applies, or the answer lists every conflict.
 */
export async function applyDraft(
  objects: GitObjects,
  input: {
    baseCommit: string;
    headCommit: string;
    files: readonly DraftFile[];
    resolutions?: ReadonlyMap<string, string | null>;
  },
): Promise<ApplyResult> {
  const { baseCommit, headCommit, files } = input;
  if (baseCommit === headCommit && (input.resolutions?.size ?? 0) === 0) {
    return {
      ok: true,
      rebased: false,
      files: files.map((file) => ({
        path: file.path,
        content: file.content,
        target:
          file.baseBlob === null ? null : { oid: file.baseBlob, mode: file.baseMode ?? '100644' },
        mode: file.baseMode ?? '100644',
      })),
    };
  }
  const headPaths = files.some((f) => f.baseBlob === null)
    ? await objects.allPaths(headCommit)
    : { files: new Set<string>(), dirs: new Set<string>() };
  const deleted = new Set(files.filter((f) => f.content === null).map((f) => f.path));
  const added = new Set(files.filter((f) => f.baseBlob === null).map((f) => f.path));
  const applied: AppliedFile[] = [];
  const conflicts: DraftConflictFile[] = [];
  for (const file of files) {
    const head = await objects.entry(headCommit, file.path);
    const resolution = input.resolutions?.get(file.path);
    const outcome =
      resolution !== undefined && (head === undefined || head.type === 'blob')
        ? settled(file, head, resolution)
        : await applyFile(objects, file, head, { headPaths, deleted, added });
    if ('reason' in outcome) conflicts.push(outcome);
    else applied.push(outcome);
  }
  if (conflicts.length > 0) {
    return { ok: false, conflict: { baseCommit, headCommit, files: conflicts } };
  }
  return { ok: true, files: applied, rebased: true };
}

/** A file a person resolved: their content, on whatever the branch has there. */
function settled(
  file: DraftFile,
  head: TreeEntry | undefined,
  content: string | null,
): AppliedFile {
  const target = head === undefined ? null : { oid: head.oid, mode: head.mode };
  return { path: file.path, content, target, mode: head?.mode ?? file.baseMode ?? '100644' };
}

async function applyFile(
  objects: GitObjects,
  file: DraftFile,
  head: TreeEntry | undefined,
  context: { headPaths: TreePaths; deleted: Set<string>; added: Set<string> },
): Promise<AppliedFile | DraftConflictFile> {
  const headOid = head?.type === 'blob' ? head.oid : null;
  const target = head?.type === 'blob' ? { oid: head.oid, mode: head.mode } : null;
  const applied = (content: string | null): AppliedFile => ({
    path: file.path,
    content,
    target,
    mode: target?.mode ?? file.baseMode ?? '100644',
  });
  if (head !== undefined && head.type !== 'blob') {
    return conflict(objects, file, null, 'path_in_use');
  }
  if (head === undefined && file.content !== null) {
    const others = { deleted: context.deleted, added: withoutPath(context.added, file.path) };
    if (addedPathProblem(file.path, context.headPaths, others) !== undefined) {
      return conflict(objects, file, null, 'path_in_use');
    }
  }
  const draftOid = file.content === null ? null : blobId(file.content, headOid?.length ?? 40);
  // The branch left the file as the draft found it, or made the very same change.
  if (headOid === file.baseBlob || headOid === draftOid) return applied(file.content);
  if (target !== null && !isRegularFileMode(target.mode)) {
    return conflict(objects, file, target, 'path_in_use');
  }
  if (file.content === null) return conflict(objects, file, target, 'deleted_in_draft');
  if (target === null) return conflict(objects, file, target, 'deleted_on_branch');
  const reason: DraftConflictReason = file.baseBlob === null ? 'both_added' : 'both_modified';
  const base = file.baseBlob === null ? '' : await readText(objects, file.baseBlob);
  const branch = await readText(objects, target.oid);
  if (base === null || branch === null) return conflict(objects, file, target, 'not_text');
  const merge = await objects.mergeText({ base, branch, draft: file.content });
  if (merge.clean && reason === 'both_modified') return applied(merge.merged);
  return {
    path: file.path,
    reason,
    base: file.baseBlob === null ? null : base,
    branch,
    draft: file.content,
    merged: merge.merged,
  };
}

/** A conflict with every version of the file that is text. */
async function conflict(
  objects: GitObjects,
  file: DraftFile,
  target: { oid: string } | null,
  reason: DraftConflictReason,
): Promise<DraftConflictFile> {
  return {
    path: file.path,
    reason,
    base: file.baseBlob === null ? null : await readText(objects, file.baseBlob),
    branch: target === null ? null : await readText(objects, target.oid),
    draft: file.content,
    merged: null,
  };
}

async function readText(objects: GitObjects, oid: string): Promise<string | null> {
  const read = await objects.readText(oid, MERGE_LIMIT_BYTES);
  return read.ok ? read.content : null;
}

function withoutPath(paths: ReadonlySet<string>, path: string): Set<string> {
  const copy = new Set(paths);
  copy.delete(path);
  return copy;
}

/**
 * The tree of `headCommit` with the applied files written: a blob for each new content, a
 * removal for each deleted file the target has.
 */
export async function candidateTree(
  objects: GitObjects,
  headCommit: string,
  files: readonly AppliedFile[],
): Promise<string> {
  const updates = [];
  for (const file of files) {
    if (file.content === null) {
      if (file.target !== null) updates.push({ path: file.path, blob: null });
      continue;
    }
    const oid = await objects.writeBlob(file.content);
    updates.push({ path: file.path, blob: { oid, mode: file.mode } });
  }
  return objects.buildTree(headCommit, updates);
}
