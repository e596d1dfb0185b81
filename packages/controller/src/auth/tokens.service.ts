import {
  FlotillaError,
  type ApiTokenList,
  type CreatedToken,
  type CreateTokenRequest,
  type TokenScope,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Store } from '../storage/store.js';
import type { ApiTokenRow, UserRow } from '../storage/user.repository.js';
import { generateToken, hashToken, newId } from '../support/tokens.js';
import { actorOf, scopeFits, SCOPE_ROLE, toApiToken, weaker, type Principal } from './principal.js';

const DAY_MS = 86_400_000;

/**
 * API tokens for the CLI and automation: a scope (read, operate, admin, assistant) that is
 * never stronger than its user, an expiry, last use; shown once and kept only as a hash.
 */
export class TokensService {
  constructor(private readonly options: { store: Store; clock: Clock }) {}

  /** The principal a bearer token stands for, or null (unknown, revoked, expired, user disabled). */
  async authenticate(token: string): Promise<Principal | null> {
    const { store, clock } = this.options;
    const row = await store.users.findTokenByHash(hashToken(token));
    const now = clock.now();
    if (!row || row.revoked_at !== null) return null;
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) return null;
    const user = await store.users.findById(row.user_id);
    if (!user || user.disabled_at !== null) return null;
    // Written at most once a minute: a busy script does not write on every request.
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) > 60_000)
      await store.users.updateToken(row.id, { last_used_at: now.toISOString() });
    return {
      user,
      via: 'token',
      role: weaker(user.role, SCOPE_ROLE[row.scope]),
      scope: row.scope,
      sessionIdHash: null,
      token: row,
      steppedUpAt: null,
    };
  }

  async create(user: UserRow, request: CreateTokenRequest, actor: string): Promise<CreatedToken> {
    const { store, clock } = this.options;
    const scope: TokenScope = request.scope ?? defaultScope(user.role);
    if (!scopeFits(scope, user.role)) {
      throw new FlotillaError(
        'forbidden',
        `a ${user.role} cannot make a token with the ${scope} scope`,
      );
    }
    const token = generateToken('flt');
    const now = clock.now();
    const row: ApiTokenRow = {
      id: newId('t', now),
      user_id: user.id,
      name: request.name,
      scope,
      token_hash: hashToken(token),
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + (request.expiresInDays ?? 90) * DAY_MS).toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await store.transaction(async (tx) => {
      await tx.users.insertToken(row);
      await tx.events.append([
        {
          at: row.created_at,
          kind: 'token.created',
          actor,
          data: {
            tokenId: row.id,
            name: row.name,
            scope,
            owner: user.username,
            expiresAt: row.expires_at,
          },
        },
      ]);
    });
    return { apiToken: toApiToken(row, user.username), token };
  }

  async list(principal: Principal, all: boolean): Promise<ApiTokenList> {
    const { store } = this.options;
    if (all && principal.role !== 'admin') {
      throw new FlotillaError('forbidden', "only an admin sees everyone's tokens");
    }
    const rows = await store.users.listTokens(all ? undefined : principal.user.id);
    const names = new Map((await store.users.list()).map((u) => [u.id, u.username]));
    return { tokens: rows.map((r) => toApiToken(r, names.get(r.user_id) ?? '?')) };
  }

  async revoke(principal: Principal, id: string): Promise<ApiTokenList> {
    const { store, clock } = this.options;
    const row = await store.users.findToken(id);
    if (!row || (row.user_id !== principal.user.id && principal.role !== 'admin')) {
      throw new FlotillaError('token_not_found', `no token "${id}" of yours`);
    }
    const now = clock.now().toISOString();
    await store.transaction(async (tx) => {
      if (row.revoked_at === null) await tx.users.updateToken(id, { revoked_at: now });
      await tx.events.append([
        {
          at: now,
          kind: 'token.revoked',
          actor: actorOf(principal),
          data: { tokenId: id, name: row.name },
        },
      ]);
    });
    return this.list(principal, false);
  }
}

function defaultScope(role: UserRow['role']): TokenScope {
  return role === 'admin' ? 'admin' : role === 'operator' ? 'operate' : 'read';
}
