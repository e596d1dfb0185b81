import { Evaluation } from '@flotilla/protocol';
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { RevisionsTable, RepositoriesTable } from './schema.js';

export type RevisionRow = Selectable<RevisionsTable>;
export type RepositoryRow = Selectable<RepositoriesTable>;

/** The evaluation side of `revisions`: status, result and errors of evaluating a revision. */
export class EvaluationRepository {
  constructor(private readonly db: Db) {}

  async revision(id: string): Promise<RevisionRow | undefined> {
    return this.db.selectFrom('revisions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async repository(id: string): Promise<RepositoryRow | undefined> {
    return this.db.selectFrom('repositories').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Claims a revision for evaluation; false if another caller already did. */
  async markEvaluating(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('revisions')
      .set({ status: 'evaluating' })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async saveEvaluation(id: string, evaluation: Evaluation, at: string): Promise<void> {
    await this.db
      .updateTable('revisions')
      .set({
        status: 'evaluated',
        evaluation_json: JSON.stringify(evaluation),
        evaluated_at: at,
        error_text: null,
      })
      .where('id', '=', id)
      .execute();
  }

  async saveFailure(id: string, errorText: string, at: string): Promise<void> {
    await this.db
      .updateTable('revisions')
      .set({ status: 'failed', error_text: errorText, evaluated_at: at })
      .where('id', '=', id)
      .execute();
  }

  /** Revisions left pending or half-evaluated by a stopped controller (evaluating → pending). */
  async unfinished(): Promise<RevisionRow[]> {
    await this.db
      .updateTable('revisions')
      .set({ status: 'pending' })
      .where('status', '=', 'evaluating')
      .execute();
    return this.db
      .selectFrom('revisions')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('discovered_at')
      .execute();
  }

  /** The newest revision of the tracked branch, whatever its evaluation's status. */
  async latestBranch(repositoryId: string): Promise<RevisionRow | undefined> {
    return this.db
      .selectFrom('revisions')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('kind', '=', 'branch')
      .orderBy('discovered_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  /**
   * The newest evaluated revisions of the tracked branch, newest first, with their
   * evaluations: what drift compares a host's running output with.
   */
  async evaluatedBranchHistory(
    repositoryId: string,
    limit: number,
  ): Promise<Pick<RevisionRow, 'id' | 'sha' | 'evaluation_json'>[]> {
    return this.db
      .selectFrom('revisions')
      .select(['id', 'sha', 'evaluation_json'])
      .where('repository_id', '=', repositoryId)
      .where('kind', '=', 'branch')
      .where('status', '=', 'evaluated')
      .orderBy('discovered_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** The newest evaluated revision of the tracked branch. */
  async latestEvaluatedBranch(repositoryId: string): Promise<RevisionRow | undefined> {
    return this.db
      .selectFrom('revisions')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .where('kind', '=', 'branch')
      .where('status', '=', 'evaluated')
      .orderBy('discovered_at', 'desc')
      .executeTakeFirst();
  }
}

/**
 * Parses a stored evaluation; null when absent or unreadable. Fields added to the schema
 * later are optional, so evaluations stored by older versions parse.
 */
export function parseEvaluation(json: string | null): Evaluation | null {
  if (json === null) return null;
  const parsed = Evaluation.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : null;
}
