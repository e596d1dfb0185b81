import type { Kysely } from 'kysely';
import type { SqlDialectName } from './dialect.js';

/**
 * The web editor's drafts: a base commit of the tracked branch, a message and the files
 * the draft changes (new content, or a deletion), owned by the user who made them. Every
 * save is a write here, so an edit outlives a reload and a controller restart. While a
 * draft is committed its row says so (`status = 'pushing'`, the commit being pushed): a
 * controller that stops between pushing and recording finds out on start which it was.
 *
 * @public (run by the migrator through migrations/index.ts)
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('editor_drafts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repository_id', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('branch', 'text', (c) => c.notNull())
    .addColumn('base_commit', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    // Grows by one on every save; a save naming an older one is refused.
    .addColumn('revision', 'integer', (c) => c.notNull())
    // 'open' | 'pushing'
    .addColumn('status', 'text', (c) => c.notNull())
    // While pushing: the commit, its parent (the branch head) and who commits it.
    .addColumn('pending_commit', 'text')
    .addColumn('pending_parent', 'text')
    .addColumn('pending_actor', 'text')
    // The last check (JSON of the protocol's DraftCheck), with the revision it checked.
    .addColumn('check_json', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('editor_drafts_by_owner')
    .on('editor_drafts')
    .columns(['owner_id', 'updated_at'])
    .execute();

  await db.schema
    .createTable('editor_draft_files')
    .addColumn('draft_id', 'text', (c) =>
      c.notNull().references('editor_drafts.id').onDelete('cascade'),
    )
    // Relative to the repository root.
    .addColumn('path', 'text', (c) => c.notNull())
    // 'added' | 'modified' | 'deleted'
    .addColumn('kind', 'text', (c) => c.notNull())
    // The new content (UTF-8 text); null for a deletion.
    .addColumn('content', 'text')
    .addColumn('size', 'integer', (c) => c.notNull())
    // The file at the draft's base: its blob and mode; null for an added file.
    .addColumn('base_blob', 'text')
    .addColumn('base_mode', 'text')
    .addPrimaryKeyConstraint('editor_draft_files_pk', ['draft_id', 'path'])
    .execute();
}
