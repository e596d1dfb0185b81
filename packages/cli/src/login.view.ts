import type { ApiToken, Me } from '@flotilla/protocol';
import type { TimeFormat } from './format.js';

/** What `flotilla login` (and `setup`) did; its `--json` answer. Never the token itself. */
export interface LoginResult {
  url: string;
  /** The context the token is kept in, and its file. */
  context: string;
  file: string;
  /** Whether that context is the current one now. */
  current: boolean;
  user: Me['user'];
  /** The role requests act with: the user's, lowered by the token's scope. */
  role: Me['role'];
  token: ApiToken;
}

/** Who is logged in, with which role and scope, until when, and where the token is kept. */
export function renderLoggedIn(result: LoginResult, time: TimeFormat): string {
  const { user, role, token } = result;
  const acting =
    role === user.role ? user.role : `${user.role}; acting as ${role} with this token's scope`;
  const expires =
    token.expiresAt === null ? 'does not expire' : `expires ${time.stamp(token.expiresAt)}`;
  const current = result.current
    ? 'it is the current context'
    : `switch to it with: flotilla context use ${result.context}`;
  return [
    `Logged in to ${result.url} as ${user.username} (${acting}).`,
    `Token ${token.name} (${token.id}): scope ${token.scope}, ${expires}.`,
    `Kept in context ${result.context} of ${result.file} (readable by you only); ${current}.`,
  ].join('\n');
}

/** What became of the token `flotilla logout` forgot. */
export type TokenFate = 'revoked' | 'gone' | 'not_revoked';

/** The `--json` answer of `flotilla logout`. */
export interface LogoutResult {
  url: string;
  context: string;
  tokenId: string | null;
  token: TokenFate;
  /** Browser sessions ended with `--everywhere`; null without it. */
  sessionsEnded: number | null;
}

export function renderLoggedOut(result: LogoutResult): string {
  const lines: string[] = [];
  if (result.sessionsEnded !== null) {
    const n = result.sessionsEnded;
    lines.push(`Ended ${n} browser session${n === 1 ? '' : 's'}.`);
  }
  const where = `removed from context ${result.context}`;
  switch (result.token) {
    case 'revoked':
      lines.push(
        `Logged out of ${result.url}: token ${result.tokenId ?? '?'} revoked and ${where}.`,
      );
      break;
    case 'gone':
      lines.push(
        `Logged out of ${result.url}: the token had expired or was revoked already; it was ${where}.`,
      );
      break;
    case 'not_revoked':
      lines.push(`Logged out of ${result.url}: the token was ${where}.`);
      break;
  }
  return lines.join('\n');
}
