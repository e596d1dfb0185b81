import type { Access, ApiToken, Role, TokenScope, User } from '@flotilla/protocol';
import type { ApiTokenRow, UserRow } from '../storage/user.repository.js';

/** Who a request acts as, established before the route's handler runs. */
export interface Principal {
  user: UserRow;
  via: 'session' | 'token' | 'proxy';
  /** The role this request acts with: the user's, lowered by a token's scope. */
  role: Role;
  scope: TokenScope | null;
  /** SHA-256 of the session id (sessions only). */
  sessionIdHash: string | null;
  token: ApiTokenRow | null;
  /** When the user last gave a TOTP code in this session; null otherwise. */
  steppedUpAt: string | null;
}

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The role a token scope allows at most. The assistant reads, and never decides. */
export const SCOPE_ROLE: Record<TokenScope, Role> = {
  read: 'viewer',
  operate: 'operator',
  admin: 'admin',
  assistant: 'viewer',
};

export function weaker(a: Role, b: Role): Role {
  return ROLE_RANK[a] <= ROLE_RANK[b] ? a : b;
}

/** Whether `role` may call a route that needs `access` (people and tools only). */
export function allows(role: Role, access: Access): boolean {
  if (access !== 'viewer' && access !== 'operator' && access !== 'admin') return false;
  return ROLE_RANK[role] >= ROLE_RANK[access];
}

/** The scope a new token gets at most for a user of `role`. */
export function scopeFits(scope: TokenScope, role: Role): boolean {
  return ROLE_RANK[SCOPE_ROLE[scope]] <= ROLE_RANK[role];
}

/** What the audit log records as the actor: the person, and the token when one was used. */
export function actorOf(principal: Principal): string {
  const name = principal.user.username;
  return principal.token ? `${name} (token ${principal.token.name})` : name;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    totpEnabled: row.totp_enabled === 1,
    disabled: row.disabled_at !== null,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export function toApiToken(row: ApiTokenRow, username: string): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    username,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
