import { TokenScope } from '@flotilla/protocol';
import { enumOption, flagOption, integerOption } from './args.js';
import { printJson, timeFormat, type Command } from './command.js';
import { UsageError } from './errors.js';
import { renderTokenNote, renderTokenTable } from './tokens.view.js';

const SCOPES =
  'Scopes: read (what a viewer may), operate (an operator), admin, and assistant: an AI\n' +
  'assistant reads, requests previews and sees logs, but never approves, deploys, rolls back,\n' +
  'reboots or changes policy. A token is never stronger than its user.';

/** `flotilla token [list] [--all]`. */
export const tokenCommand: Command = {
  name: 'token',
  args: [],
  optionalArgs: ['list'],
  summary: "List your API tokens (--all: everyone's, for an admin); never the tokens themselves",
  description: SCOPES,
  options: { all: { type: 'boolean', description: "everyone's tokens (admin)" } },
  needsToken: true,
  prepare(input) {
    const [word] = input.args;
    if (word !== undefined && word !== 'list') {
      throw new UsageError(`unknown token command "${word}" (list, create or revoke)`);
    }
    const all = flagOption(input, 'all');
    return async (context) => {
      const list = await context.client.call('listTokens', {
        query: { all: all ? 'true' : undefined },
      });
      if (context.json) printJson(context, list);
      else context.out(renderTokenTable(list, timeFormat(context), all));
      return 0;
    };
  },
};

/** `flotilla token create NAME [--scope S] [--expires-days N]`. */
export const tokenCreateCommand: Command = {
  name: 'token create',
  args: ['NAME'],
  summary: 'Create an API token for a tool or script; printed once, alone on standard output',
  description:
    'Standard output holds only the token (with --json: the token and its record), so it can\n' +
    'go straight into a file or a secret store; the note about it goes to standard error.\n' +
    `${SCOPES}`,
  options: {
    scope: {
      type: 'string',
      value: TokenScope.options.join('|'),
      description: 'what it may do (default: all your role allows)',
    },
    'expires-days': {
      type: 'string',
      value: 'N',
      description: 'days until it stops working (default 90; at most 1825)',
    },
  },
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    if (name.trim() === '' || name.length > 100) {
      throw new UsageError('NAME must be 1 to 100 characters');
    }
    const scope = enumOption(input, 'scope', TokenScope.options);
    const expiresInDays = integerOption(input, 'expires-days', { min: 1, max: 1825 });
    return async (context) => {
      const created = await context.client.call('createToken', {
        body: { name, scope, expiresInDays },
      });
      if (context.json) printJson(context, created);
      else {
        context.out(created.token);
        context.err(renderTokenNote(created.apiToken, timeFormat(context)));
      }
      return 0;
    };
  },
};

/** `flotilla token revoke ID`. */
export const tokenRevokeCommand: Command = {
  name: 'token revoke',
  args: ['ID'],
  summary: 'Revoke an API token (yours; an admin any): it stops working at once',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const list = await context.client.call('revokeToken', { params: { id } });
      if (context.json) printJson(context, list);
      else context.out(`token ${id} revoked`);
      return 0;
    };
  },
};
