import { readFile } from 'node:fs/promises';
import { flagOption, stringOption } from './args.js';
import { printJson, type LocalCommand, type LocalContext } from './command.js';
import {
  ContextEntry,
  ContextName,
  readContexts,
  removeContext,
  useContext,
  writeContext,
} from './context.js';
import { contextListing, renderContextAdded, renderContextList } from './context.view.js';
import { CliError, UsageError, describeIssues } from './errors.js';

/** `flotilla context [list]`: the contexts in the contexts file, the current one marked. */
export const contextCommand: LocalCommand = {
  name: 'context',
  args: [],
  optionalArgs: ['list'],
  summary: 'List the controller contexts, the current one marked (no controller needed)',
  description:
    'A context is a named controller URL with the API token "flotilla login" keeps for it.\n' +
    'Tokens are never shown, only whether one is stored. Switch with "flotilla context use NAME".',
  options: {},
  local: true,
  prepare(input) {
    const [word] = input.args;
    if (word !== undefined && word !== 'list') {
      throw new UsageError(`unknown context command "${word}" (list, use, add or remove)`);
    }
    return async (context) => {
      const listing = contextListing(context.contextFile, await readContexts(context.contextFile));
      if (context.json) printJson(context, listing);
      else context.out(renderContextList(listing));
      return 0;
    };
  },
};

/** `flotilla context use NAME`. */
export const contextUseCommand: LocalCommand = {
  name: 'context use',
  args: ['NAME'],
  summary: 'Make a context the current one',
  options: {},
  local: true,
  prepare(input) {
    const [name = ''] = input.args;
    return async (context) => {
      const listing = contextListing(
        context.contextFile,
        await useContext(context.contextFile, name),
      );
      if (context.json) printJson(context, listing);
      else context.out(`current context: ${name} (${urlOf(listing, name)})`);
      return 0;
    };
  },
};

/** `flotilla context add NAME --url URL [--token-file FILE]`. */
export const contextAddCommand: LocalCommand = {
  name: 'context add',
  args: ['NAME'],
  summary: 'Add or replace a context; the token comes from a file or standard input',
  description:
    'The API token is read from --token-file FILE ("-" for standard input), else from\n' +
    'standard input when it is piped, else typed at a hidden prompt; never from the command\n' +
    'line, where it would land in the shell history and the process list. An empty token\n' +
    'stores the context without one. Replacing a context replaces its token too. The file\n' +
    'is written atomically and readable by its owner only (0600).',
  options: {
    url: {
      type: 'string',
      value: 'URL',
      description: "the controller's http(s) URL",
      required: true,
    },
    'token-file': {
      type: 'string',
      value: 'FILE',
      description: 'read the API token from FILE ("-": standard input)',
    },
    use: { type: 'boolean', description: 'make it the current context' },
  },
  local: true,
  prepare(input) {
    const [name = ''] = input.args;
    const validName = ContextName.safeParse(name);
    if (!validName.success) {
      throw new UsageError(`context name "${name}" ${describeIssues(validName.error)}`);
    }
    const url = stringOption(input, 'url');
    if (url === undefined) throw new UsageError('--url is required');
    const urlCheck = ContextEntry.shape.url.safeParse(url);
    if (!urlCheck.success) throw new UsageError(`--url "${url}" is not an http(s) URL`);
    const tokenFile = stringOption(input, 'token-file');
    const makeCurrent = flagOption(input, 'use');
    return async (context) => {
      const before = await readContexts(context.contextFile);
      const token = await readToken(context, name, tokenFile);
      const after = await writeContext(context.contextFile, name, { url, token }, { makeCurrent });
      const listing = contextListing(context.contextFile, after);
      if (context.json) printJson(context, listing);
      else context.out(renderContextAdded(name, listing, Object.hasOwn(before.contexts, name)));
      return 0;
    };
  },
};

/** `flotilla context remove NAME`. */
export const contextRemoveCommand: LocalCommand = {
  name: 'context remove',
  args: ['NAME'],
  summary: 'Remove a context and its token',
  description: 'Removing the current context leaves no context current.',
  options: {},
  local: true,
  prepare(input) {
    const [name = ''] = input.args;
    return async (context) => {
      const before = await readContexts(context.contextFile);
      const listing = contextListing(
        context.contextFile,
        await removeContext(context.contextFile, name),
      );
      if (context.json) printJson(context, listing);
      else {
        const wasCurrent = before.current === name ? '; no context is current now' : '';
        context.out(`removed context ${name}${wasCurrent}`);
      }
      return 0;
    };
  },
};

function urlOf(listing: ReturnType<typeof contextListing>, name: string): string {
  return listing.contexts.find((c) => c.name === name)?.url ?? '?';
}

/**
 * The API token for `context add`: from `tokenFile` (`-` is standard input), else from
 * piped standard input, else typed at a hidden prompt. Surrounding whitespace (the newline
 * of a token file) is dropped; empty means no token.
 */
async function readToken(
  context: LocalContext,
  name: string,
  tokenFile: string | undefined,
): Promise<string | undefined> {
  let text: string;
  if (tokenFile !== undefined && tokenFile !== '-') {
    try {
      text = await readFile(tokenFile, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new CliError('token_unreadable', `cannot read token file ${tokenFile} (${reason})`);
    }
  } else if (tokenFile === undefined && context.stdin.isTerminal) {
    text = await context.stdin.readHidden(`API token for ${name} (input hidden; empty for none): `);
  } else {
    text = await context.stdin.readAll();
  }
  const token = text.trim();
  if (/\s/.test(token)) {
    const source = tokenFile === undefined || tokenFile === '-' ? 'standard input' : tokenFile;
    throw new CliError(
      'token_unreadable',
      `${source} holds more than one word; a token is a single line without spaces`,
    );
  }
  return token === '' ? undefined : token;
}
