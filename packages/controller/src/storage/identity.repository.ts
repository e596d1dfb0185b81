import type { Insertable, Selectable } from 'kysely';
import type { Db } from './database.js';
import type { AgentKeysTable, EnrollmentTokensTable } from './schema.js';

export type AgentKeyRow = Selectable<AgentKeysTable>;
export type EnrollmentTokenRow = Selectable<EnrollmentTokensTable>;

/** A host's identity as the host list shows it: its newest key and its pending token. */
export interface IdentitySummary {
  /** The newest key (active when `revoked_at` is null); undefined when it never enrolled. */
  latestKey: AgentKeyRow | undefined;
  /** When the newest unused, unexpired enrollment token expires; null when none. */
  pendingUntil: string | null;
}

/** All access to `agent_keys` and `enrollment_tokens`. */
export class IdentityRepository {
  constructor(private readonly db: Db) {}

  async activeKey(host: string): Promise<AgentKeyRow | undefined> {
    return this.db
      .selectFrom('agent_keys')
      .selectAll()
      .where('host_name', '=', host)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  async keyByFingerprint(fingerprint: string): Promise<AgentKeyRow | undefined> {
    return this.db
      .selectFrom('agent_keys')
      .selectAll()
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
  }

  async insertKey(key: Insertable<AgentKeysTable>): Promise<void> {
    await this.db.insertInto('agent_keys').values(key).execute();
  }

  /** Revokes the host's active key, if any, and returns it as it was. */
  async revokeActiveKey(
    host: string,
    revocation: { at: string; by: string; reason: string },
  ): Promise<AgentKeyRow | undefined> {
    const active = await this.activeKey(host);
    if (!active) return undefined;
    await this.db
      .updateTable('agent_keys')
      .set({
        revoked_at: revocation.at,
        revoked_by: revocation.by,
        revoke_reason: revocation.reason,
      })
      .where('id', '=', active.id)
      .where('revoked_at', 'is', null)
      .execute();
    return active;
  }

  async insertToken(token: Insertable<EnrollmentTokensTable>): Promise<void> {
    await this.db.insertInto('enrollment_tokens').values(token).execute();
  }

  async findToken(tokenHash: string): Promise<EnrollmentTokenRow | undefined> {
    return this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /**
   * Marks a token used by `keyId`, only if nobody used or revoked it meanwhile; false when
   * another request got there first (the caller's transaction must then fail).
   */
  async useToken(tokenHash: string, at: string, keyId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('enrollment_tokens')
      .set({ used_at: at, key_id: keyId })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Revokes every token of the host nobody used yet; returns how many. */
  async revokeUnusedTokens(host: string, at: string): Promise<number> {
    const result = await this.db
      .updateTable('enrollment_tokens')
      .set({ revoked_at: at })
      .where('host_name', '=', host)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** The identity of each named host (hosts without keys or tokens get an empty summary). */
  async summaries(names: readonly string[], now: string): Promise<Map<string, IdentitySummary>> {
    const out = new Map<string, IdentitySummary>(
      names.map((name) => [name, { latestKey: undefined, pendingUntil: null }]),
    );
    if (names.length === 0) return out;
    const keys = await this.db
      .selectFrom('agent_keys')
      .selectAll()
      .where('host_name', 'in', names)
      .orderBy('enrolled_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    for (const key of keys) {
      const summary = out.get(key.host_name);
      if (summary && summary.latestKey === undefined) summary.latestKey = key;
    }
    const pending = await this.db
      .selectFrom('enrollment_tokens')
      .select(['host_name', (eb) => eb.fn.max('expires_at').as('until')])
      .where('host_name', 'in', names)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .groupBy('host_name')
      .execute();
    for (const row of pending) {
      const summary = out.get(row.host_name);
      if (summary) summary.pendingUntil = row.until;
    }
    return out;
  }
}
