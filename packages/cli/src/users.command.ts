import { Role, Username, type UpdateUserRequest } from '@flotilla/protocol';
import { enumOption, flagOption } from './args.js';
import {
  printJson,
  timeFormat,
  type Command,
  type CommandInput,
  type CommandRunner,
} from './command.js';
import { pipedLines, typeNewPassword } from './credentials-input.js';
import { UsageError, describeIssues } from './errors.js';
import { renderUserChange, renderUserTable, type UserChange } from './users.view.js';

const ROLES =
  'viewer reads; operator also approves, deploys, rolls back and reboots; admin also changes settings and users';

/** `flotilla user [list]`: every user (admin). */
export const userCommand: Command = {
  name: 'user',
  args: [],
  optionalArgs: ['list'],
  summary: 'List the users with role, TOTP and state (admin)',
  description: `Roles: ${ROLES}.`,
  options: {},
  needsToken: true,
  prepare(input) {
    const [word] = input.args;
    if (word !== undefined && word !== 'list') {
      throw new UsageError(
        `unknown user command "${word}" (list, add, role, disable, enable, reset-password or reset-totp)`,
      );
    }
    return async (context) => {
      const list = await context.client.call('listUsers');
      if (context.json) printJson(context, list);
      else context.out(renderUserTable(list, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla user add NAME --role ROLE [--password-stdin]`. */
export const userAddCommand: Command = {
  name: 'user add',
  args: ['NAME'],
  summary: 'Add a user; a generated password is shown once',
  description:
    `Roles: ${ROLES}.\n` +
    'Without --password-stdin a password is generated and shown once, to hand over safely.\n' +
    'With it, the password is the first line of piped standard input, or typed twice at a\n' +
    'hidden prompt.',
  options: {
    role: {
      type: 'string',
      value: 'ROLE',
      description: 'viewer, operator or admin: what they may do',
      required: true,
    },
    'password-stdin': {
      type: 'boolean',
      description: 'take the password from standard input instead of generating one',
    },
  },
  needsToken: true,
  prepare(input) {
    const username = usernameArg(input);
    const role = enumOption(input, 'role', Role.options);
    if (role === undefined) throw new UsageError('--role is required');
    const fromStdin = flagOption(input, 'password-stdin');
    return async (context) => {
      let password: string | undefined;
      if (fromStdin) {
        password = context.stdin.isTerminal
          ? await typeNewPassword(context.stdin, `Password for ${username}`)
          : (await pipedLines(context.stdin, ['password']))[0];
      }
      const answer = await context.client.call('createUser', {
        body: { username, role, password },
      });
      if (context.json) printJson(context, answer);
      else context.out(renderUserChange('added', answer));
      return 0;
    };
  },
};

/** `flotilla user role NAME ROLE`. */
export const userRoleCommand: Command = {
  name: 'user role',
  args: ['NAME', 'ROLE'],
  summary: "Change a user's role (viewer, operator, admin)",
  description: `Roles: ${ROLES}.\nThe last admin keeps the admin role; nobody lowers their own.`,
  options: {},
  needsToken: true,
  prepare(input) {
    const username = usernameArg(input);
    const given = input.args[1] ?? '';
    const role = Role.safeParse(given).data;
    if (role === undefined) {
      throw new UsageError(`ROLE must be one of ${Role.options.join(', ')} (got "${given}")`);
    }
    return update(username, { role }, 'role');
  },
};

/** `flotilla user disable NAME`. */
export const userDisableCommand: Command = {
  name: 'user disable',
  args: ['NAME'],
  summary: 'Disable a user: no more logins; their sessions and tokens are revoked',
  options: {},
  needsToken: true,
  prepare(input) {
    return update(usernameArg(input), { disabled: true }, 'disabled');
  },
};

/** `flotilla user enable NAME`. */
export const userEnableCommand: Command = {
  name: 'user enable',
  args: ['NAME'],
  summary: 'Enable a disabled user again',
  options: {},
  needsToken: true,
  prepare(input) {
    return update(usernameArg(input), { disabled: false }, 'enabled');
  },
};

/** `flotilla user reset-password NAME`. */
export const userResetPasswordCommand: Command = {
  name: 'user reset-password',
  args: ['NAME'],
  summary: 'Give a user a new generated password (shown once); unlocks a locked account',
  description: "The user's browser sessions and API tokens are revoked.",
  options: {},
  needsToken: true,
  prepare(input) {
    return update(usernameArg(input), { resetPassword: true }, 'password');
  },
};

/** `flotilla user reset-totp NAME`. */
export const userResetTotpCommand: Command = {
  name: 'user reset-totp',
  args: ['NAME'],
  summary: "Turn off a user's TOTP (they lost the device and the recovery codes)",
  description: "The user's browser sessions and API tokens are revoked.",
  options: {},
  needsToken: true,
  prepare(input) {
    return update(usernameArg(input), { resetTotp: true }, 'totp');
  },
};

/** Every user change is one PATCH; it asks a TOTP user for a code (step-up). */
function update(username: string, body: UpdateUserRequest, change: UserChange): CommandRunner {
  return async (context) => {
    const answer = await context.client.call('updateUser', { params: { username }, body });
    if (context.json) printJson(context, answer);
    else context.out(renderUserChange(change, answer));
    return 0;
  };
}

function usernameArg(input: CommandInput): string {
  const [name = ''] = input.args;
  const valid = Username.safeParse(name);
  if (!valid.success) throw new UsageError(`user name "${name}" ${describeIssues(valid.error)}`);
  return valid.data;
}
