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
