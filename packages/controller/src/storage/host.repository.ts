import type { Facts, HostMode, HostOs, Metrics } from '@flotilla/protocol';
import type { Selectable } from 'kysely';
import { atomically } from './atomically.js';
import type { Db } from './database.js';
import type { HostsTable } from './schema.js';

export type HostRow = Selectable<HostsTable>;

export interface NewHost {
  name: string;
  mode: HostMode;
  os: HostOs | null;
  createdAt: string;
}

/** What a connected agent's session changes on its host row, written in batches. */
export interface HostStateUpdate {
  agentVersion?: string;
  protocolVersion?: number;
  os?: HostOs;
  lastConnectedAt?: string;
  lastSeenAt?: string;
  facts?: Facts;
  factsAt?: string;
  metrics?: Metrics;
}

/** All access to the `hosts` table. */
export class HostRepository {
  constructor(private readonly db: Db) {}

  async insert(host: NewHost): Promise<void> {
    await this.db
      .insertInto('hosts')
      .values({
        name: host.name,
        mode: host.mode,
        os: host.os,
        created_at: host.createdAt,
        agent_version: null,
        protocol_version: null,
        last_connected_at: null,
        last_seen_at: null,
        facts_json: null,
        facts_at: null,
        metrics_json: null,
      })
      .execute();
  }

  async setMode(name: string, mode: HostMode): Promise<void> {
    await this.db.updateTable('hosts').set({ mode }).where('name', '=', name).execute();
  }

  /** Removes a host; its deployments and their logs go with it (foreign keys cascade). */
  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('hosts').where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async findByName(name: string): Promise<HostRow | undefined> {
    return this.db.selectFrom('hosts').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** A page of hosts ordered by name, starting after `cursor`. */
  async page(limit: number, cursor?: string): Promise<HostRow[]> {
    let query = this.db.selectFrom('hosts').selectAll().orderBy('name').limit(limit);
    if (cursor !== undefined) query = query.where('name', '>', cursor);
    return query.execute();
  }

  async allNames(): Promise<string[]> {
    const rows = await this.db.selectFrom('hosts').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async findByNames(names: readonly string[]): Promise<HostRow[]> {
    if (names.length === 0) return [];
    return this.db
      .selectFrom('hosts')
      .selectAll()
      .where('name', 'in', names)
      .orderBy('name')
      .execute();
  }

  async countAll(): Promise<{ total: number; neverSeen: number }> {
    const row = await this.db
      .selectFrom('hosts')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('total'),
        eb.fn.count<number | string>('last_connected_at').as('seen'),
      ])
      .executeTakeFirstOrThrow();
    const total = Number(row.total);
    return { total, neverSeen: total - Number(row.seen) };
  }

  /** Applies many session updates in one transaction (one fsync instead of many). */
  async applyStateUpdates(updates: ReadonlyMap<string, HostStateUpdate>): Promise<void> {
    if (updates.size === 0) return;
    await atomically(this.db, async (trx) => {
      for (const [name, update] of updates) {
        const values: Partial<HostsTable> = {};
        if (update.agentVersion !== undefined) values.agent_version = update.agentVersion;
        if (update.protocolVersion !== undefined) values.protocol_version = update.protocolVersion;
        if (update.os !== undefined) values.os = update.os;
        if (update.lastConnectedAt !== undefined) values.last_connected_at = update.lastConnectedAt;
        if (update.lastSeenAt !== undefined) values.last_seen_at = update.lastSeenAt;
        if (update.facts !== undefined) values.facts_json = JSON.stringify(update.facts);
        if (update.factsAt !== undefined) values.facts_at = update.factsAt;
        if (update.metrics !== undefined) values.metrics_json = JSON.stringify(update.metrics);
        await trx.updateTable('hosts').set(values).where('name', '=', name).execute();
      }
    });
  }
}
