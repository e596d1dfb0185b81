import type { CreateUserResponse, User, UserList } from '@flotilla/protocol';
import type { TimeFormat } from './format.js';
import { table } from './format.js';

/** `flotilla user list`: every user with role, TOTP and whether they may log in. */
export function renderUserTable(list: UserList, time: TimeFormat): string {
  if (list.users.length === 0) return 'no users';
  const rows = list.users.map((u) => [
    u.username,
    u.role,
    u.totpEnabled ? 'on' : 'off',
    u.disabled ? 'disabled' : 'active',
    time.dateTime(u.createdAt),
    u.createdBy,
  ]);
  return table(['USER', 'ROLE', 'TOTP', 'STATE', 'CREATED', 'BY'], rows);
}

/** What a user change did; `password` is a generated one, shown once. */
export type UserChange = 'added' | 'role' | 'disabled' | 'enabled' | 'password' | 'totp';

export function renderUserChange(change: UserChange, answer: CreateUserResponse): string {
  const { user } = answer;
  const lines = [summary(change, user)];
  if (answer.password !== null) {
    lines.push(
      '',
      `Password for ${user.username} (generated; shown only this once):`,
      '',
      `  ${answer.password}`,
      '',
      `Give it to ${user.username} over a safe channel; they change it with: flotilla password`,
    );
  }
  return lines.join('\n');
}

const REVOKED = 'their browser sessions and API tokens were revoked';

function summary(change: UserChange, user: User): string {
  switch (change) {
    case 'added':
      return `Added user ${user.username} (${user.role}).`;
    case 'role':
      return `${user.username} is ${user.role} now.`;
    case 'disabled':
      return `${user.username} is disabled: they cannot log in, and ${REVOKED}.`;
    case 'enabled':
      return `${user.username} is enabled again; they log in anew (their old tokens stay revoked).`;
    case 'password':
      return `New password for ${user.username}; ${REVOKED}.`;
    case 'totp':
      return `TOTP is off for ${user.username}; ${REVOKED}. They can turn it on again with: flotilla totp enable`;
  }
}
