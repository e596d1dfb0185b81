import type { ApiToken, ApiTokenList } from '@flotilla/protocol';
import type { TimeFormat } from './format.js';
import { table } from './format.js';

/** `flotilla token list`: the tokens, with whose they are when `--all` lists everyone's. */
export function renderTokenTable(list: ApiTokenList, time: TimeFormat, all: boolean): string {
  if (list.tokens.length === 0) return all ? 'no API tokens' : 'you have no API tokens';
  const rows = list.tokens.map((t) => [
    t.id,
    t.name,
    ...(all ? [t.username] : []),
    t.scope,
    tokenState(t, time.now),
    time.dateTime(t.createdAt),
    t.expiresAt === null ? 'never' : time.dateTime(t.expiresAt),
    time.relative(t.lastUsedAt),
  ]);
  const headers = [
    'ID',
    'NAME',
    ...(all ? ['USER'] : []),
    'SCOPE',
    'STATE',
    'CREATED',
    'EXPIRES',
    'LAST USED',
  ];
  return table(headers, rows);
}

function tokenState(token: ApiToken, now: Date): string {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

/** The note beside a new token (on standard error: standard output holds only the token). */
export function renderTokenNote(token: ApiToken, time: TimeFormat): string {
  const expires =
    token.expiresAt === null ? 'never expires' : `expires ${time.stamp(token.expiresAt)}`;
  return [
    `Token ${token.name} (${token.id}): scope ${token.scope}, ${expires}.`,
    'It is shown only this once (the controller keeps only its hash): put it in a secret store',
    'and give it to the tool as FLOTILLA_TOKEN. Revoke it with: flotilla token revoke ' + token.id,
  ].join('\n');
}
