import { sql } from 'kysely';
import type { Db } from './database.js';

export interface NewEvent {
  at: string;
  kind: string;
  actor: string;
  hostName?: string | null;
  deploymentId?: string | null;
  data?: unknown;
}

/** The append-only event log: transitions and actions with their actor. */
export class EventRepository {
  constructor(private readonly db: Db) {}

  async append(events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insertInto('events')
      .values(
        events.map((e) => ({
          at: e.at,
          kind: e.kind,
          actor: e.actor,
          host_name: e.hostName ?? null,
          deployment_id: e.deploymentId ?? null,
          data_json: e.data === undefined ? null : JSON.stringify(e.data),
        })),
      )
      .execute();
  }

  /**
   * The event log, newest first, optionally for one host or kind, an actor containing a text
   * (any case), a time range (ISO instants in UTC, inclusive), before an id (paging).
   */
  async list(query: {
    host?: string;
    kind?: string;
    actor?: string;
    since?: string;
    until?: string;
    before?: number;
    limit: number;
  }) {
    let q = this.db.selectFrom('events').selectAll().orderBy('id', 'desc').limit(query.limit);
    if (query.host !== undefined) q = q.where('host_name', '=', query.host);
    if (query.kind !== undefined) q = q.where('kind', '=', query.kind);
    if (query.actor !== undefined) {
      // LIKE differs in case between the engines; lower() on both sides does not.
      const pattern = `%${query.actor.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where(sql<boolean>`lower(actor) like ${pattern} escape '\\'`);
    }
    // Stored times are ISO instants in UTC with milliseconds: they sort as text.
    if (query.since !== undefined) q = q.where('at', '>=', query.since);
    if (query.until !== undefined) q = q.where('at', '<=', query.until);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    return q.execute();
  }

  async listForHost(hostName: string, limit: number) {
    return this.db
      .selectFrom('events')
      .selectAll()
      .where('host_name', '=', hostName)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
