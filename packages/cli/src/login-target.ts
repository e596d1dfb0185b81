/** Where `setup` and `login` go: the controller URL, the context for its token, and the user. */
import { Username } from '@flotilla/protocol';
import { stringOption } from './args.js';
import type { CommandInput, OptionSpec, SessionContext } from './command.js';
import { ContextEntry, ContextName, findContext, readContexts, sameUrl } from './context.js';
import { CliError, UsageError, describeIssues } from './errors.js';

/** Where `setup` and `login` go and who logs in, as the command line says. */
export interface LoginTarget {
  url: string | undefined;
  context: string | undefined;
  username: string | undefined;
}

/** `--url` and `--context` of `setup` and `login`. */
export const targetOptions = {
  url: {
    type: 'string',
    value: 'URL',
    description: "the controller's http(s) URL (else FLOTILLA_URL, else the context's)",
  },
  context: {
    type: 'string',
    value: 'NAME',
    description:
      'the context to keep the token in (default: the current one, or with a URL a new one named after its host)',
  },
} as const satisfies Record<string, OptionSpec>;

/** `--username`, with what it defaults to in help. */
export function usernameOption(defaultText: string): OptionSpec {
  return { type: 'string', value: 'NAME', description: `who logs in (default: ${defaultText})` };
}

/** The target options, checked before anything is read or asked. */
export function loginTarget(input: CommandInput): LoginTarget {
  const url = stringOption(input, 'url');
  if (url !== undefined && !ContextEntry.shape.url.safeParse(url).success) {
    throw new UsageError(`--url "${url}" is not an http(s) URL`);
  }
  const context = stringOption(input, 'context');
  if (context !== undefined) {
    const valid = ContextName.safeParse(context);
    if (!valid.success) {
      throw new UsageError(`context name "${context}" ${describeIssues(valid.error)}`);
    }
  }
  const username = stringOption(input, 'username');
  if (username !== undefined) {
    const valid = Username.safeParse(username);
    if (!valid.success) throw new UsageError(`--username ${describeIssues(valid.error)}`);
  }
  return { url, context, username };
}

/** The context a login keeps its token in, and the controller it logs in to. */
export interface LoginPlace {
  name: string;
  url: string;
  /** The context as it was, if it existed. */
  entry: ContextEntry | undefined;
  makeCurrent: boolean;
}

/**
 * With a URL (`--url`, else `FLOTILLA_URL` unless a context is named): the context named,
 * else the one for that URL, else a new one named after the URL's host; it becomes the
 * current one. Without: the named or current context, as it is.
 */
export async function loginPlace(
  context: SessionContext,
  target: LoginTarget,
): Promise<LoginPlace> {
  const file = context.contextFile;
  const url = target.url ?? (target.context === undefined ? context.envUrl : undefined);
  if (url === undefined) {
    const found = await findContext(file, target.context);
    if (found === undefined) {
      throw new CliError(
        'not_configured',
        `no controller named: pass --url URL (no context is current in ${file})`,
      );
    }
    return { name: found.name, url: found.entry.url, entry: found.entry, makeCurrent: false };
  }
  if (!ContextEntry.shape.url.safeParse(url).success) {
    throw new CliError('not_configured', `controller URL "${url}" is not an http(s) URL`);
  }
  const { contexts } = await readContexts(file);
  const own = (name: string) => (Object.hasOwn(contexts, name) ? contexts[name] : undefined);
  if (target.context !== undefined) {
    return { name: target.context, url, entry: own(target.context), makeCurrent: true };
  }
  const same = Object.entries(contexts).find(([, entry]) => sameUrl(entry.url, url));
  if (same !== undefined) return { name: same[0], url, entry: same[1], makeCurrent: true };
  const { hostname, port } = new URL(url);
  const name = [hostname, `${hostname}-${port}`].find(
    (candidate) => ContextName.safeParse(candidate).success && own(candidate) === undefined,
  );
  if (name === undefined) {
    throw new CliError('not_configured', `name a context to keep the token in: --context NAME`);
  }
  return { name, url, entry: undefined, makeCurrent: true };
}

/** A password sent over plain http to another machine can be read on the way. */
export function warnIfUnencrypted(context: SessionContext, url: string): void {
  const { protocol, hostname } = new URL(url);
  const loopback = /^(localhost|127(\.\d+){3}|\[::1\])$/.test(hostname);
  if (protocol === 'http:' && !loopback) {
    context.err(
      `warning: ${url} is plain http: the password and the token cross the network unencrypted (use https)`,
    );
  }
}

/** The user to log in as when none is given: the context's last one, else the local login name. */
export function defaultUsername(context: SessionContext, entry: ContextEntry | undefined): string {
  const name = entry?.username ?? context.username;
  if (name === undefined || !Username.safeParse(name).success) {
    throw new CliError('validation_failed', 'give the user name to log in as: --username NAME');
  }
  return name;
}

/** `cli@HOSTNAME`, what the token is called in `flotilla token list`. */
export function defaultTokenName(context: SessionContext): string {
  return `cli@${context.hostname}`.slice(0, 100);
}
