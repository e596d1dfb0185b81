import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { RepositoriesTable } from './schema.js';

export type RepositoryLinkRow = Selectable<RepositoriesTable>;
export type NewRepositoryLink = Insertable<RepositoriesTable>;
export type RepositoryLinkPatch = Omit<Updateable<RepositoriesTable>, 'id' | 'created_at'>;

/** The `repositories` table: linked flake repositories and their sync state. */
export class RepositoryLinkRepository {
  constructor(private readonly db: Db) {}

  async find(id: string): Promise<RepositoryLinkRow | undefined> {
    return this.db.selectFrom('repositories').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: NewRepositoryLink): Promise<void> {
    await this.db.insertInto('repositories').values(row).execute();
  }

  /** Changes columns of a repository; `updated_at` is part of the patch. */
  async update(id: string, patch: RepositoryLinkPatch): Promise<void> {
    await this.db.updateTable('repositories').set(patch).where('id', '=', id).execute();
  }
}
