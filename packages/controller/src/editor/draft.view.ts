import {
  DraftCheck,
  type Draft,
  type DraftChangeSummary,
  type DraftSummary,
} from '@flotilla/protocol';
import type { DraftFileRow, DraftFileSummaryRow, DraftRow } from '../storage/draft.repository.js';
import type { DraftFile } from './draft-apply.js';

/** A draft as the API shows it, with the new contents of its files. */
export function toDraft(row: DraftRow, files: readonly DraftFileRow[]): Draft {
  return {
    ...fields(row),
    changes: files.map((file) => ({ ...toChange(file), content: file.content })),
  };
}

/** A draft without file contents. */
export function toDraftSummary(row: DraftRow, files: readonly DraftFileSummaryRow[]): DraftSummary {
  return { ...fields(row), changes: files.map(toChange) };
}

/** A stored file as the merge code reads it. */
export function toDraftFile(file: DraftFileRow): DraftFile {
  return {
    path: file.path,
    content: file.kind === 'deleted' ? null : (file.content ?? ''),
    baseBlob: file.base_blob,
    baseMode: file.base_mode,
  };
}

function fields(row: DraftRow): Omit<DraftSummary, 'changes'> {
  return {
    id: row.id,
    owner: row.owner_name,
    branch: row.branch,
    baseCommit: row.base_commit,
    message: row.message,
    revision: Number(row.revision),
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastCheck: parseCheck(row.check_json),
  };
}

function toChange(file: DraftFileSummaryRow): DraftChangeSummary {
  return { path: file.path, kind: file.kind, size: Number(file.size), baseBlob: file.base_blob };
}

/** A stored check; null when absent or written by a version whose shape no longer parses. */
function parseCheck(json: string | null): DraftCheck | null {
  if (json === null) return null;
  const parsed = DraftCheck.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : null;
}
