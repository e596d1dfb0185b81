import { TokenScope, type CreatedToken, type TokenLoginRequest } from '@flotilla/protocol';
import type { ApiClient } from './api-client.js';
import { enumOption, flagOption, integerOption, stringOption } from './args.js';
import { printJson, timeFormat, type SessionCommand, type SessionContext } from './command.js';
import { findContext, sameUrl, writeContext, type ContextEntry } from './context.js';
import { pipedLines, readSecret, readSecretFile, typeNewPassword } from './credentials-input.js';
import { ApiError, CliError, UsageError } from './errors.js';
import {
  defaultTokenName,
  defaultUsername,
  loginPlace,
  loginTarget,
  targetOptions,
  usernameOption,
  warnIfUnencrypted,
  type LoginPlace,
} from './login-target.js';
import {
  renderLoggedIn,
  renderLoggedOut,
  type LoginResult,
  type LogoutResult,
  type TokenFate,
} from './login.view.js';

/** `flotilla setup`: the first admin of a new controller, then a login as them. */
export const setupCommand: SessionCommand = {
  name: 'setup',
  args: [],
  summary: 'Create the first admin of a new controller with its one-time setup token, and log in',
  description:
    'On a first start with no user, the controller writes a one-time setup token to\n' +
    '<state dir>/setup-token (readable by its owner only) and logs it. The token is read from\n' +
    '--setup-token-file, else typed at a hidden prompt; the password is typed twice. When\n' +
    'standard input is piped, it holds the setup token on its first line and the password on\n' +
    'its second; with --setup-token-file only the password, on its first line:\n' +
    '  flotilla setup --url URL --setup-token-file FILE < password-file\n' +
    'Then it logs in as the new admin like "flotilla login" and keeps the token in a context.',
  options: {
    ...targetOptions,
    username: usernameOption('your login name on this machine'),
    'setup-token-file': {
      type: 'string',
      value: 'FILE',
      description: "read the setup token from FILE (e.g. the state directory's setup-token)",
    },
  },
  local: true,
  session: true,
  prepare(input) {
    const target = loginTarget(input);
    const tokenFile = stringOption(input, 'setup-token-file');
    return async (context) => {
      const place = await loginPlace(context, target);
      warnIfUnencrypted(context, place.url);
      const username = target.username ?? defaultUsername(context, undefined);
      let setupToken =
        tokenFile === undefined ? undefined : await readSecretFile(tokenFile, 'setup token');
      let password: string;
      if (context.stdin.isTerminal) {
        setupToken ??= (
          await context.stdin.readHidden(
            `Setup token of ${place.url} (printed at its first start; hidden): `,
          )
        ).trim();
        password = await typeNewPassword(
          context.stdin,
          `Password for the new admin ${username} at ${place.url}`,
        );
      } else if (setupToken === undefined) {
        const [token = '', line = ''] = await pipedLines(context.stdin, [
          'setup token',
          'password',
        ]);
        setupToken = token.trim();
        password = line;
      } else {
        [password = ''] = await pipedLines(context.stdin, ['password']);
      }
      const client = context.connect(place.url);
      const user = await client.call('setup', { body: { setupToken, username, password } });
      context.err(`Created the first admin ${user.username} at ${place.url}.`);
      const created = await requestToken(context, client, {
        username,
        password,
        name: defaultTokenName(context),
      });
      return finishLogin(context, place, created);
    };
  },
};

/** `flotilla login`: a password (and TOTP code) in, an API token kept in a context. */
export const loginCommand: SessionCommand = {
  name: 'login',
  args: [],
  summary: 'Log in: asks for your password and keeps an API token in a context',
  description:
    'The password is typed at a hidden prompt, or read from the first line of piped standard\n' +
    'input. A user with TOTP also gives a code: --totp CODE, else a prompt (a recovery code\n' +
    'works too). The token is kept in the contexts file (readable by you only, written\n' +
    'atomically) and never printed. With --url (or FLOTILLA_URL) the context for that URL is\n' +
    'created or updated and becomes the current one; without, the current context (or the one\n' +
    '--context names) logs in again. A token the context held before is revoked.',
  options: {
    ...targetOptions,
    username: usernameOption("the context's last user, else your login name on this machine"),
    totp: {
      type: 'string',
      value: 'CODE',
      description: 'a current TOTP code, or a recovery code (else asked at a terminal)',
    },
    'token-name': {
      type: 'string',
      value: 'NAME',
      description: 'what the token is called in "flotilla token list" (default cli@HOSTNAME)',
    },
    scope: {
      type: 'string',
      value: TokenScope.options.join('|'),
      description: "what the token may do (default: all the user's role allows)",
    },
    'expires-days': {
      type: 'string',
      value: 'N',
      description: 'days until the token stops working (default 90; at most 1825)',
    },
  },
  local: true,
  session: true,
  prepare(input) {
    const target = loginTarget(input);
    const scope = enumOption(input, 'scope', TokenScope.options);
    const expiresInDays = integerOption(input, 'expires-days', { min: 1, max: 1825 });
    const tokenName = stringOption(input, 'token-name');
    if (tokenName !== undefined && (tokenName.trim() === '' || tokenName.length > 100)) {
      throw new UsageError('--token-name must be 1 to 100 characters');
    }
    const totp = stringOption(input, 'totp');
    return async (context) => {
      const place = await loginPlace(context, target);
      warnIfUnencrypted(context, place.url);
      const username = target.username ?? defaultUsername(context, place.entry);
      const password = await readSecret(
        context.stdin,
        `Password for ${username} at ${place.url} (hidden): `,
        'password',
      );
      const created = await requestToken(context, context.connect(place.url), {
        username,
        password,
        totp: totp ?? context.totp,
        name: tokenName ?? defaultTokenName(context),
        scope,
        expiresInDays,
      });
      return finishLogin(context, place, created);
    };
  },
};

/** `flotilla logout`: the context's token revoked on the controller and forgotten here. */
export const logoutCommand: SessionCommand = {
  name: 'logout',
  args: [],
  summary: "Log out: revoke the context's token and remove it; --everywhere ends browser sessions",
  description:
    'The token kept in the current context (or the one --context names) is revoked on the\n' +
    'controller and removed from the contexts file; a token the controller no longer knows is\n' +
    'removed all the same. When the controller cannot be reached the token is kept, so\n' +
    'logging out can be tried again. --everywhere first ends every browser session of the\n' +
    "token's user. Other API tokens keep working: see flotilla token list.",
  options: {
    context: { type: 'string', value: 'NAME', description: 'the context to log out of' },
    everywhere: { type: 'boolean', description: 'also end every browser session of the user' },
  },
  local: true,
  session: true,
  prepare(input) {
    const name = stringOption(input, 'context');
    const everywhere = flagOption(input, 'everywhere');
    return async (context) => {
      const found = await findContext(context.contextFile, name);
      if (found === undefined) {
        throw new CliError(
          'not_configured',
          `no context is current in ${context.contextFile}: name one with --context NAME`,
        );
      }
      const { entry } = found;
      if (entry.token === undefined) {
        throw new CliError('not_configured', `context ${found.name} holds no token: not logged in`);
      }
      const client = context.connect(entry.url, entry.token);
      const forget = () => writeContext(context.contextFile, found.name, withoutToken(entry));
      let sessionsEnded: number | null = null;
      if (everywhere) {
        try {
          sessionsEnded = (await client.call('logoutEverywhere')).sessionsRevoked;
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'unauthorized')) throw error;
          await forget();
          throw new CliError(
            'unauthorized',
            `the token of context ${found.name} no longer works, so no browser session was ended; it was removed: log in again and run flotilla logout --everywhere`,
          );
        }
      }
      // A token stored without its id (`flotilla context add`) is asked who it is.
      const tokenId = entry.tokenId ?? (await client.call('me')).tokenId ?? undefined;
      const fate: TokenFate = tokenId === undefined ? 'not_revoked' : await revoke(client, tokenId);
      await forget();
      const result: LogoutResult = {
        url: entry.url,
        context: found.name,
        tokenId: tokenId ?? null,
        token: fate,
        sessionsEnded,
      };
      if (context.json) printJson(context, result);
      else context.out(renderLoggedOut(result));
      if (fate === 'not_revoked') {
        context.err(
          'warning: the controller did not say which token this was, so it was not revoked and works until it expires; revoke it with flotilla token revoke ID (flotilla token list shows the ids)',
        );
      }
      return 0;
    };
  },
};

/**
 * Credentials in, a token out. A user with TOTP who gave no code is asked for one at a
 * terminal, once; without a terminal `totp_required` says to pass `--totp`.
 */
async function requestToken(
  context: SessionContext,
  client: ApiClient,
  request: TokenLoginRequest,
): Promise<CreatedToken> {
  try {
    return await client.call('tokenLogin', { body: request });
  } catch (error) {
    const asked = error instanceof ApiError && error.code === 'totp_required';
    if (!asked || request.totp !== undefined || !context.stdin.isTerminal) throw error;
    const code = await context.stdin.readHidden(
      `TOTP code of ${request.username} from the authenticator app (or a recovery code; hidden): `,
    );
    return client.call('tokenLogin', { body: { ...request, totp: code.trim() } });
  }
}

/**
 * Keeps the new token in its context, revokes the one the context held before for the same
 * controller (with itself: it may belong to another user), and says who is logged in.
 */
async function finishLogin(
  context: SessionContext,
  place: LoginPlace,
  created: CreatedToken,
): Promise<number> {
  const me = await context.connect(place.url, created.token).call('me');
  const written = await writeContext(
    context.contextFile,
    place.name,
    {
      url: place.url,
      token: created.token,
      tokenId: created.apiToken.id,
      username: created.apiToken.username,
    },
    { makeCurrent: place.makeCurrent },
  );
  const result: LoginResult = {
    url: place.url,
    context: place.name,
    file: context.contextFile,
    current: written.current === place.name,
    user: me.user,
    role: me.role,
    token: created.apiToken,
  };
  if (context.json) printJson(context, result);
  else context.out(renderLoggedIn(result, timeFormat(context)));
  await revokePrevious(context, place);
  return 0;
}

async function revokePrevious(context: SessionContext, place: LoginPlace): Promise<void> {
  const previous = place.entry;
  if (previous?.token === undefined) return;
  if (previous.tokenId === undefined || !sameUrl(previous.url, place.url)) {
    context.err(
      `note: the token context ${place.name} held before was replaced, not revoked (its id is not known here); see flotilla token list`,
    );
    return;
  }
  try {
    await revoke(context.connect(previous.url, previous.token), previous.tokenId);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    context.err(
      `warning: the previous token ${previous.tokenId} was not revoked (${reason}): flotilla token revoke ${previous.tokenId}`,
    );
  }
}

/** Revokes token `id` with a client holding that token; one the controller no longer knows is gone already. */
async function revoke(client: ApiClient, id: string): Promise<TokenFate> {
  try {
    await client.call('revokeToken', { params: { id } });
    return 'revoked';
  } catch (error) {
    const gone =
      error instanceof ApiError &&
      (error.code === 'token_not_found' || error.code === 'unauthorized');
    if (gone) return 'gone';
    throw error;
  }
}

function withoutToken(entry: ContextEntry): ContextEntry {
  return entry.username === undefined
    ? { url: entry.url }
    : { url: entry.url, username: entry.username };
}
