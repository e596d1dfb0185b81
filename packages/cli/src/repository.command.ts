import { readFileSync } from 'node:fs';
import { flagOption, integerOption, stringOption } from './args.js';
import { printJson, timeFormat, type Command, type CommandInput } from './command.js';
import { UsageError } from './errors.js';
import { renderRepository, renderSyncResult } from './repository.view.js';

/** `flotilla repository`: the linked flake repository and its sync state. */
export const repositoryCommand: Command = {
  name: 'repository',
  args: [],
  summary: 'Show the linked flake repository and its last fetch',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const repository = await context.client.call('getRepository');
      if (context.json) printJson(context, repository);
      else context.out(renderRepository(repository, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla repository link URL`: links (or re-links) the repository through the API. */
export const repositoryLinkCommand: Command = {
  name: 'repository link',
  args: ['URL'],
  summary: 'Link the flake repository the controller follows',
  description:
    'Replaces the whole link: options left out take their defaults, and a token not given\n' +
    'again is forgotten. Refused when the controller config file links the repository.',
  options: {
    branch: { type: 'string', value: 'BRANCH', description: 'branch to follow (default main)' },
    'flake-dir': {
      type: 'string',
      value: 'DIR',
      description: 'directory of flake.nix in the repository (default: the root)',
    },
    'token-file': {
      type: 'string',
      value: 'FILE',
      description: 'file holding an HTTPS access token (read here, kept by the controller)',
    },
    'ssh-key-file': {
      type: 'string',
      value: 'PATH',
      description: 'deploy key for ssh URLs: a path on the controller machine',
    },
    'poll-interval': {
      type: 'string',
      value: 'SECONDS',
      description: 'seconds between fetches (5-86400, default 60)',
    },
    'allow-force-push': {
      type: 'boolean',
      description: 'follow a rewritten branch instead of only reporting it',
    },
  },
  needsToken: true,
  prepare(input) {
    const [url = ''] = input.args;
    const request = {
      url,
      branch: stringOption(input, 'branch'),
      flakeDir: stringOption(input, 'flake-dir'),
      token: readTokenFile(input),
      sshKeyFile: stringOption(input, 'ssh-key-file'),
      pollIntervalSeconds: integerOption(input, 'poll-interval', { min: 5, max: 86400 }),
      allowForcePush: flagOption(input, 'allow-force-push'),
    };
    return async (context) => {
      const repository = await context.client.call('linkRepository', { body: request });
      if (context.json) printJson(context, repository);
      else context.out(`Linked.\n\n${renderRepository(repository, timeFormat(context))}`);
      return 0;
    };
  },
};

/** `flotilla repository sync`: fetch now. */
export const repositorySyncCommand: Command = {
  name: 'repository sync',
  args: [],
  summary: 'Fetch the repository now and record new commits',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const result = await context.client.call('syncRepository');
      if (context.json) printJson(context, result);
      else context.out(renderSyncResult(result, timeFormat(context)));
      return 0;
    };
  },
};

/** The token from `--token-file`, read before anything is sent. */
function readTokenFile(input: CommandInput): string | undefined {
  const path = stringOption(input, 'token-file');
  if (path === undefined) return undefined;
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`--token-file: cannot read ${path} (${(error as Error).message})`);
  }
  if (token === '') throw new UsageError(`--token-file: ${path} is empty`);
  return token;
}
