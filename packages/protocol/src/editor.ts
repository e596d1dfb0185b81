import * as z from 'zod';
import { HostEvaluationError } from './pipeline.js';

/**
 * Bodies of the web editor's API: browsing the tracked branch, drafts (a base commit, a set
 * of changed files and a message, owned by the user who made them), checking a draft by
 * evaluating it, and committing it to the remote.
 *
 * Every path is relative to the **repository root** (as git names files), never to the
 * flake directory: a draft may change any file of the repository, and Nix reports error
 * locations relative to the root as well.
 */

/** Limits of the editor: what one file, one draft and one tree listing may hold. */
export const EDITOR_LIMITS = {
  /** Bytes of one file the editor reads or writes (UTF-8). */
  fileBytes: 256 * 1024,
  /** Changed files in one draft. */
  draftFiles: 100,
  /** Bytes of all new contents of one draft together. */
  draftBytes: 1024 * 1024,
  /** Entries one tree listing returns at most (`truncated` says when there were more). */
  treeEntries: 5000,
  /** Characters of a commit message. */
  messageChars: 10_000,
  /** Characters of a path. */
  pathChars: 1024,
} as const;

/**
 * Why `path` is not a file path the editor accepts, or undefined when it is one: relative
 * (no leading `/`), no empty, `.` or `..` segment, no `.git` segment (in any case), no NUL
 * or other control character, no trailing slash, at most {@link EDITOR_LIMITS.pathChars}.
 */
export function repoPathProblem(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (path.length > EDITOR_LIMITS.pathChars) {
    return `must be at most ${EDITOR_LIMITS.pathChars} characters`;
  }
  // Control characters (NUL, newline, tab …) would be ambiguous in git's index lines.
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  if (path.startsWith('/')) return 'must be relative to the repository root';
  for (const segment of path.split('/')) {
    if (segment === '') return 'must not have empty segments or a trailing slash';
    if (segment === '.' || segment === '..') return `must not contain a "${segment}" segment`;
    if (segment.toLowerCase() === '.git') return 'must not name anything inside .git';
  }
  return undefined;
}

/** A file's path relative to the repository root (see {@link repoPathProblem}). */
export const RepoPath = z.string().superRefine((path, context) => {
  const problem = repoPathProblem(path);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

/** A directory relative to the repository root; '' for the root itself. */
export const RepoDir = z.string().superRefine((path, context) => {
  const problem = path === '' ? undefined : repoPathProblem(path);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

/** A full commit id (SHA-1, or SHA-256 for repositories in that format). */
export const CommitSha = z
  .string()
  .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full commit id (40 or 64 hex digits)');

/** A commit message as stored in a draft: may be empty until the draft is committed. */
const DraftMessage = z.string().max(EDITOR_LIMITS.messageChars);

// ---- browsing ----

/** `GET /api/v1/editor/tree`. */
export const EditorTreeQuery = z.object({
  /** The directory to list; '' (default) for the repository root. */
  path: RepoDir.default(''),
  /** A commit of the tracked branch; default: the branch head in the controller's mirror. */
  commit: CommitSha.optional(),
  /** `true` (default): everything below the directory; `false`: its own entries only. */
  recursive: z.enum(['true', 'false']).default('true'),
});
export type EditorTreeQuery = z.infer<typeof EditorTreeQuery>;

export const EditorEntryType = z.enum(['file', 'directory', 'symlink', 'submodule']);
export type EditorEntryType = z.infer<typeof EditorEntryType>;

export const EditorTreeEntry = z.object({
  /** Relative to the repository root, e.g. `hosts/gpc0.nix`. */
  path: z.string(),
  type: EditorEntryType,
  /** Git's mode, e.g. `100644`, `100755` (executable), `120000` (symlink), `040000`. */
  mode: z.string(),
  /** Bytes of a file or symlink; null for directories and submodules. */
  size: z.number().int().nullable(),
});
export type EditorTreeEntry = z.infer<typeof EditorTreeEntry>;

export const EditorTree = z.object({
  /** The tracked branch. */
  branch: z.string(),
  /** The commit listed. */
  commit: z.string(),
  /** Where flake.nix lives, relative to the repository root ('' for the root). */
  flakeDir: z.string(),
  /** The directory listed ('' for the root). */
  path: z.string(),
  /** Sorted by path; directories are entries of their own. */
  entries: z.array(EditorTreeEntry),
  /** More entries than EDITOR_LIMITS.treeEntries: list a subdirectory instead. */
  truncated: z.boolean(),
});
export type EditorTree = z.infer<typeof EditorTree>;

/** `GET /api/v1/editor/file`. */
export const EditorFileQuery = z.object({
  path: RepoPath,
  /** A commit of the tracked branch (e.g. a draft's base); default: the branch head. */
  commit: CommitSha.optional(),
});
export type EditorFileQuery = z.infer<typeof EditorFileQuery>;

/** A text file of the repository at a commit. */
export const EditorFile = z.object({
  path: z.string(),
  commit: z.string(),
  /** The blob's id; a draft change remembers the one it was made against. */
  blob: z.string(),
  mode: z.string(),
  /** Bytes (UTF-8). */
  size: z.number().int(),
  content: z.string(),
});
export type EditorFile = z.infer<typeof EditorFile>;

// ---- drafts ----

/** What a draft does to a file, against its base commit. */
export const DraftChangeKind = z.enum(['added', 'modified', 'deleted']);
export type DraftChangeKind = z.infer<typeof DraftChangeKind>;

export const DraftChangeSummary = z.object({
  path: z.string(),
  kind: DraftChangeKind,
  /** Bytes of the new content; 0 for a deletion. */
  size: z.number().int(),
  /** The file's blob at the draft's base; null for an added file. */
  baseBlob: z.string().nullable(),
});
export type DraftChangeSummary = z.infer<typeof DraftChangeSummary>;

export const DraftChange = DraftChangeSummary.extend({
  /** The new content; null for a deletion. */
  content: z.string().nullable(),
});
export type DraftChange = z.infer<typeof DraftChange>;

/** `open`: editable; `pushing`: being committed (edits are refused until it ends). */
export const DraftStatus = z.enum(['open', 'pushing']);
export type DraftStatus = z.infer<typeof DraftStatus>;

/** What the draft does to one host, against the branch head. */
export const DraftHostStatus = z.enum([
  /** Same system derivation as at the branch head: nothing to build or deploy. */
  'unchanged',
  /** Its system derivation differs: the pipeline would build a new release for it. */
  'rebuild',
  /** A host the branch head does not have. */
  'added',
  /** A host of the branch head the draft removes. */
  'removed',
  /** Its evaluation failed: `error` says why and where. */
  'error',
]);
export type DraftHostStatus = z.infer<typeof DraftHostStatus>;

export const DraftHostCheck = z.object({
  host: z.string(),
  status: DraftHostStatus,
  /** The host's system derivation at the branch head; null when it has none there. */
  headDrvPath: z.string().nullable(),
  /** With the draft applied; null when it does not evaluate or is removed. */
  draftDrvPath: z.string().nullable(),
  /** Message and location (file relative to the repository root, line, column). */
  error: HostEvaluationError.nullable(),
  /**
   * The host does not evaluate at the branch head either: its error does not hold up a
   * commit (one broken host must not block a fix elsewhere).
   */
  failsAtHead: z.boolean(),
});
export type DraftHostCheck = z.infer<typeof DraftHostCheck>;

/** Why a file of a draft does not apply to the branch head by itself. */
export const DraftConflictReason = z.enum([
  /** Both changed the file and the changes overlap. */
  'both_modified',
  /** The draft changes a file the branch deleted. */
  'deleted_on_branch',
  /** The draft deletes a file the branch changed. */
  'deleted_in_draft',
  /** Both added the file, with different contents. */
  'both_added',
  /** A version is not text, so it cannot be merged line by line. */
  'not_text',
  /** A file where the branch now has a directory, or the other way round. */
  'path_in_use',
]);
export type DraftConflictReason = z.infer<typeof DraftConflictReason>;

/** One conflicting file with every version of it, for a person to resolve. */
export const DraftConflictFile = z.object({
  path: z.string(),
  reason: DraftConflictReason,
  /** At the draft's base; null when absent (or not text). */
  base: z.string().nullable(),
  /** At the branch head; null when absent (or not text). */
  branch: z.string().nullable(),
  /** In the draft; null when the draft deletes it. */
  draft: z.string().nullable(),
  /** `git merge-file`'s result with conflict markers, when all versions are text. */
  merged: z.string().nullable(),
});
export type DraftConflictFile = z.infer<typeof DraftConflictFile>;

/**
 * The branch moved since the draft's base and some of the draft's files do not merge
 * cleanly. Also the `details` of a `draft_conflict` error.
 */
export const DraftConflict = z.object({
  baseCommit: z.string(),
  headCommit: z.string(),
  files: z.array(DraftConflictFile),
});
export type DraftConflict = z.infer<typeof DraftConflict>;

/**
 * What checking a draft found: the draft applied to the branch head (rebased when the
 * branch moved), evaluated as the pipeline evaluates a push, host by host against the
 * branch head. `ok` is true when it would commit: no conflict, the flake evaluates, and no
 * host that evaluates at the head fails with the draft (`failsAtHead`). Also the `details`
 * of a `draft_check_failed` error.
 */
export const DraftCheck = z.object({
  /** The draft's revision that was checked; a later save makes the check stale. */
  draftRevision: z.number().int(),
  baseCommit: z.string(),
  /** The branch head the draft was applied to. */
  headCommit: z.string(),
  /** The branch had moved: the draft was merged onto its head. */
  rebased: z.boolean(),
  ok: z.boolean(),
  conflict: DraftConflict.nullable(),
  /** The flake as a whole does not evaluate (flake.nix itself broken); null otherwise. */
  flakeError: HostEvaluationError.nullable(),
  hosts: z.array(DraftHostCheck),
  /** One line for people, e.g. "rebuilds 2 of 6 hosts; 1 error". */
  summary: z.string(),
  checkedAt: z.string(),
});
export type DraftCheck = z.infer<typeof DraftCheck>;

const DraftFields = {
  id: z.string(),
  /** The user who made it; only they see and change it. */
  owner: z.string(),
  branch: z.string(),
  /** The commit of the branch the draft's changes are made against. */
  baseCommit: z.string(),
  message: z.string(),
  /** Grows by one on every save; pass it back to refuse saving over a newer version. */
  revision: z.number().int(),
  status: DraftStatus,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The last check, if any; stale when its `draftRevision` is not `revision`. */
  lastCheck: DraftCheck.nullable(),
};

/** A draft with the new contents of its files. */
export const Draft = z.object({ ...DraftFields, changes: z.array(DraftChange) });
export type Draft = z.infer<typeof Draft>;

/** A draft without file contents (lists, answers to saves). */
export const DraftSummary = z.object({ ...DraftFields, changes: z.array(DraftChangeSummary) });
export type DraftSummary = z.infer<typeof DraftSummary>;

export const DraftList = z.object({ drafts: z.array(DraftSummary) });
export type DraftList = z.infer<typeof DraftList>;

/** `POST /api/v1/editor/drafts`. */
export const CreateDraftRequest = z
  .object({
    message: DraftMessage.default(''),
    /** A commit of the tracked branch; default: the branch head in the controller's mirror. */
    baseCommit: CommitSha.optional(),
  })
  .strict();
export type CreateDraftRequest = z.infer<typeof CreateDraftRequest>;

/** `revision`: the draft's revision the caller last saw; refused (`draft_stale`) if newer. */
const Revision = z.number().int().min(0);

const WriteChange = z
  .object({ op: z.literal('write'), path: RepoPath, content: z.string() })
  .strict();
const DeleteChange = z.object({ op: z.literal('delete'), path: RepoPath }).strict();

/** One file of a whole-draft save: its new content, or its deletion. */
export const DraftChangeInput = z.discriminatedUnion('op', [WriteChange, DeleteChange]);
export type DraftChangeInput = z.infer<typeof DraftChangeInput>;

/**
 * `PUT /api/v1/editor/drafts/:id`: replaces the draft's message and all of its changes.
 * A write whose content equals the base's is no change and is dropped.
 */
export const SaveDraftRequest = z
  .object({
    message: DraftMessage,
    changes: z.array(DraftChangeInput).max(EDITOR_LIMITS.draftFiles),
    revision: Revision.optional(),
  })
  .strict();
export type SaveDraftRequest = z.infer<typeof SaveDraftRequest>;

/**
 * `PUT /api/v1/editor/drafts/:id/files`: one file, as an editor saves while typing: `write`
 * its new content, `delete` it, or `revert` it to the base (drop the draft's change).
 */
export const SaveDraftFileRequest = z.discriminatedUnion('op', [
  WriteChange.extend({ revision: Revision.optional() }),
  DeleteChange.extend({ revision: Revision.optional() }),
  z.object({ op: z.literal('revert'), path: RepoPath, revision: Revision.optional() }).strict(),
]);
export type SaveDraftFileRequest = z.infer<typeof SaveDraftFileRequest>;

/** `POST /api/v1/editor/drafts/:id/check`. */
export const CheckDraftRequest = z.object({ revision: Revision.optional() }).strict();
export type CheckDraftRequest = z.infer<typeof CheckDraftRequest>;

/**
 * `POST /api/v1/editor/drafts/:id/commit`: `revision` is the version the person saw (and
 * checked); a newer one is refused. `message`, when given, replaces the draft's.
 */
export const CommitDraftRequest = z
  .object({
    revision: Revision,
    message: DraftMessage.optional(),
  })
  .strict();
export type CommitDraftRequest = z.infer<typeof CommitDraftRequest>;

export const CommitDraftResult = z.object({
  /** The new commit on the branch. */
  commit: z.string(),
  /** Its parent: the branch head it was pushed onto. */
  parent: z.string(),
  branch: z.string(),
  /** The branch had moved since the draft's base; the draft was merged onto its head. */
  rebased: z.boolean(),
  /** `Name <email>` of the commit's author: the logged-in user. */
  author: z.string(),
  message: z.string(),
  /** The check the commit passed (of exactly the pushed tree). */
  check: DraftCheck,
});
export type CommitDraftResult = z.infer<typeof CommitDraftResult>;

/**
 * `POST /api/v1/editor/drafts/:id/rebase`: moves the draft onto the branch head. Files
 * that merge cleanly take the merged content; each conflicting file needs a resolution
 * (its final content, or null to delete it), else the answer is `draft_conflict` and the
 * draft stays as it was.
 */
export const RebaseDraftRequest = z
  .object({
    revision: Revision,
    resolutions: z
      .array(z.object({ path: RepoPath, content: z.string().nullable() }).strict())
      .max(EDITOR_LIMITS.draftFiles)
      .default([]),
  })
  .strict();
export type RebaseDraftRequest = z.infer<typeof RebaseDraftRequest>;

export const DiscardedDraft = z.object({ discarded: z.string() });
export type DiscardedDraft = z.infer<typeof DiscardedDraft>;
