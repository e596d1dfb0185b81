import type { Insertable, Selectable } from 'kysely';
import type { Db } from './database.js';
import type { RevisionsTable } from './schema.js';

export type RevisionRow = Selectable<RevisionsTable>;
export type NewRevision = Insertable<RevisionsTable>;

/** The discovery side of `revisions`: recording commits once and reading them back. */
export class RevisionRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts a revision unless one with the same repository, ref and sha exists (the unique
   * constraint decides, so concurrent or repeated discoveries insert once). Returns the
   * stored row and whether this call created it.
   */
  async insertIfAbsent(row: NewRevision): Promise<{ row: RevisionRow; created: boolean }> {
    await this.db
      .insertInto('revisions')
      .values(row)
      .onConflict((conflict) => conflict.columns(['repository_id', 'ref', 'sha']).doNothing())
      .execute();
    const stored = await this.findByRef(row.repository_id, row.ref, row.sha);
    if (!stored) throw new Error(`revision ${row.ref}@${row.sha} vanished after insert`);
    return { row: stored, created: stored.id === row.id };
  }

  async find(id: string): Promise<RevisionRow | undefined> {
    return this.db.selectFrom('revisions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByRef(
    repositoryId: string,
    ref: string,
    sha: string,
  ): Promise<RevisionRow | undefined> {
    return this.db
      .selectFrom('revisions')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('ref', '=', ref)
      .where('sha', '=', sha)
      .executeTakeFirst();
  }

  /**
   * Revisions whose commit id starts with `prefix` (lowercase hex), newest first; at most
   * `limit`, so a caller can tell one from several.
   */
  async withShaPrefix(repositoryId: string, prefix: string, limit: number): Promise<RevisionRow[]> {
    return this.db
      .selectFrom('revisions')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('sha', '>=', prefix)
      .where('sha', '<', `${prefix}g`)
      .orderBy('discovered_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** The newest revision recorded for `ref`. */
  async latestOfRef(repositoryId: string, ref: string): Promise<RevisionRow | undefined> {
    return this.db
      .selectFrom('revisions')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('ref', '=', ref)
      .orderBy('discovered_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  /** Newest first. */
  async list(
    repositoryId: string,
    query: { kind?: RevisionRow['kind'] | undefined; limit: number },
  ): Promise<RevisionRow[]> {
    let select = this.db
      .selectFrom('revisions')
      .selectAll()
      .where('repository_id', '=', repositoryId);
    if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
    return select
      .orderBy('discovered_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit)
      .execute();
  }
}
