import type { Insertable, Selectable } from 'kysely';
import type { Db } from './database.js';
import type { EditorDraftFilesTable, EditorDraftsTable } from './schema.js';

export type DraftRow = Selectable<EditorDraftsTable> & { owner_name: string };
export type DraftFileRow = Selectable<EditorDraftFilesTable>;
export type NewDraft = Insertable<EditorDraftsTable>;
/** A file row without its content (lists, answers to saves). */
export type DraftFileSummaryRow = Omit<DraftFileRow, 'content'>;

/** What a pushing draft records: the commit on its way to the remote, and who sent it. */
export interface PendingCommit {
  commit: string;
  parent: string;
  actor: string;
}

/**
 * The web editor's drafts and their files. Every change is conditional on the draft's
 * status and, when the caller names one, its revision: two tabs, or a save racing a
 * commit, cannot silently overwrite each other (the loser sees zero rows changed).
 */
export class DraftRepository {
  constructor(private readonly db: Db) {}

  async insert(row: NewDraft): Promise<void> {
    await this.db.insertInto('editor_drafts').values(row).execute();
  }

  async find(id: string): Promise<DraftRow | undefined> {
    return this.db
      .selectFrom('editor_drafts')
      .innerJoin('users', 'users.id', 'editor_drafts.owner_id')
      .selectAll('editor_drafts')
      .select('users.username as owner_name')
      .where('editor_drafts.id', '=', id)
      .executeTakeFirst();
  }

  /** A user's drafts, the most recently changed first. */
  async listByOwner(ownerId: string): Promise<DraftRow[]> {
    return this.db
      .selectFrom('editor_drafts')
      .innerJoin('users', 'users.id', 'editor_drafts.owner_id')
      .selectAll('editor_drafts')
      .select('users.username as owner_name')
      .where('editor_drafts.owner_id', '=', ownerId)
      .orderBy('editor_drafts.updated_at', 'desc')
      .orderBy('editor_drafts.id', 'desc')
      .execute();
  }

  /** Drafts a stopped controller left between pushing and recording. */
  async pushing(): Promise<DraftRow[]> {
    return this.db
      .selectFrom('editor_drafts')
      .innerJoin('users', 'users.id', 'editor_drafts.owner_id')
      .selectAll('editor_drafts')
      .select('users.username as owner_name')
      .where('editor_drafts.status', '=', 'pushing')
      .execute();
  }

  /** A draft's files with their contents, by path. */
  async files(draftId: string): Promise<DraftFileRow[]> {
    return this.db
      .selectFrom('editor_draft_files')
      .selectAll()
      .where('draft_id', '=', draftId)
      .orderBy('path')
      .execute();
  }

  /** The files of several drafts without contents, by path. */
  async fileSummaries(draftIds: readonly string[]): Promise<DraftFileSummaryRow[]> {
    if (draftIds.length === 0) return [];
    return this.db
      .selectFrom('editor_draft_files')
      .select(['draft_id', 'path', 'kind', 'size', 'base_blob', 'base_mode'])
      .where('draft_id', 'in', draftIds)
      .orderBy('draft_id')
      .orderBy('path')
      .execute();
  }

  /**
   * Starts a save: bumps the revision of an open draft (only from `expected` when given),
   * sets the fields given and forgets the last check. False when the draft is not open or
   * has another revision; nothing changed then.
   */
  async bump(
    id: string,
    expected: number | undefined,
    changes: { updatedAt: string; message?: string; baseCommit?: string },
  ): Promise<boolean> {
    let query = this.db
      .updateTable('editor_drafts')
      .set((eb) => ({
        revision: eb('revision', '+', 1),
        updated_at: changes.updatedAt,
        check_json: null,
        ...(changes.message !== undefined ? { message: changes.message } : {}),
        ...(changes.baseCommit !== undefined ? { base_commit: changes.baseCommit } : {}),
      }))
      .where('id', '=', id)
      .where('status', '=', 'open');
    if (expected !== undefined) query = query.where('revision', '=', expected);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Writes one file of a draft (insert or replace). */
  async putFile(row: DraftFileRow): Promise<void> {
    await this.db
      .insertInto('editor_draft_files')
      .values(row)
      .onConflict((conflict) =>
        conflict.columns(['draft_id', 'path']).doUpdateSet({
          kind: row.kind,
          content: row.content,
          size: row.size,
          base_blob: row.base_blob,
          base_mode: row.base_mode,
        }),
      )
      .execute();
  }

  async removeFile(draftId: string, path: string): Promise<void> {
    await this.db
      .deleteFrom('editor_draft_files')
      .where('draft_id', '=', draftId)
      .where('path', '=', path)
      .execute();
  }

  /** Replaces every file of a draft. */
  async replaceFiles(draftId: string, rows: readonly DraftFileRow[]): Promise<void> {
    await this.db.deleteFrom('editor_draft_files').where('draft_id', '=', draftId).execute();
    if (rows.length > 0)
      await this.db
        .insertInto('editor_draft_files')
        .values([...rows])
        .execute();
  }

  /** Keeps a check's result, unless the draft was saved since it was checked. */
  async saveCheck(id: string, revision: number, checkJson: string): Promise<void> {
    await this.db
      .updateTable('editor_drafts')
      .set({ check_json: checkJson })
      .where('id', '=', id)
      .where('revision', '=', revision)
      .execute();
  }

  /**
   * An open draft at `revision` starts pushing `pending` with `message`; false when it is
   * not open or was saved since.
   */
  async markPushing(
    id: string,
    revision: number,
    pending: PendingCommit & { message: string; at: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('editor_drafts')
      .set({
        status: 'pushing',
        message: pending.message,
        pending_commit: pending.commit,
        pending_parent: pending.parent,
        pending_actor: pending.actor,
        updated_at: pending.at,
      })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .where('revision', '=', revision)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** A pushing draft whose commit did not reach the remote becomes editable again. */
  async reopen(id: string, pendingCommit: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('editor_drafts')
      .set({
        status: 'open',
        pending_commit: null,
        pending_parent: null,
        pending_actor: null,
        updated_at: at,
      })
      .where('id', '=', id)
      .where('status', '=', 'pushing')
      .where('pending_commit', '=', pendingCommit)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Removes a draft and its files (cascade). With `pendingCommit`, only while it is pushing
   * exactly that commit; otherwise only while it is open. False when nothing was removed.
   */
  async remove(id: string, pendingCommit?: string): Promise<boolean> {
    let query = this.db.deleteFrom('editor_drafts').where('id', '=', id);
    query =
      pendingCommit === undefined
        ? query.where('status', '=', 'open')
        : query.where('status', '=', 'pushing').where('pending_commit', '=', pendingCommit);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
