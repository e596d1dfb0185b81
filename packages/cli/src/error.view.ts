import { Role } from '@flotilla/protocol';
import { ApiError, type CliError, type CliErrorCode } from './errors.js';
import type { TimeFormat } from './format.js';

/** The token scope that allows what a role may do, for the advice to log in again. */
const SCOPE_FOR_ROLE: Record<Role, string> = {
  viewer: 'read',
  operator: 'operate',
  admin: 'admin',
};

type Advice = (error: ApiError, time: TimeFormat) => string;

/** For the controller's codes of logging in: a sentence that says what to do next. */
const ADVICE: Partial<Record<CliErrorCode, Advice>> = {
  unauthorized: () => 'not logged in, or the token expired or was revoked: run "flotilla login"',
  scope_forbidden: (error) => {
    if (detail(error, 'scope') === 'assistant') {
      return `${error.message}: an assistant's token never approves, deploys, rolls back, reboots or changes policy; a person decides that`;
    }
    const needed = Role.safeParse(detail(error, 'needed')).data;
    const scope = needed === undefined ? 'SCOPE' : SCOPE_FOR_ROLE[needed];
    return `${error.message}: log in again with a wider scope, flotilla login --scope ${scope}`;
  },
  account_locked: (error, time) => {
    const until = detail(error, 'lockedUntil');
    return typeof until === 'string'
      ? `too many failed logins: the account is locked until ${time.stamp(until)}; an admin can unlock it now with flotilla user reset-password NAME`
      : time.localize(error.message);
  },
  setup_done: () => 'the controller has its first admin already: log in with "flotilla login"',
  totp_required: () =>
    'this user has TOTP on: give a current code from the authenticator app with --totp CODE (a recovery code works too)',
};

/**
 * What the CLI says about an error, after `error: `: the message, or for the controller's
 * codes of logging in a sentence that says what to do next. The code is added by the caller.
 */
export function errorMessage(error: CliError, time: TimeFormat): string {
  if (!(error instanceof ApiError)) return error.message;
  const advice = ADVICE[error.code];
  return advice === undefined ? error.message : advice(error, time);
}

function detail(error: CliError, key: string): unknown {
  const details = error.details;
  return typeof details === 'object' && details !== null
    ? (details as Record<string, unknown>)[key]
    : undefined;
}
