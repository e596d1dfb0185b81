import { writeFileAtomic } from '@flotilla/runtime';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { CliError, describeIssues } from './errors.js';

/**
 * One named controller: where it is and the API token to use, if one is stored. Files
 * written before `flotilla login` existed hold only `url` and `token`, and still read.
 */
export const ContextEntry = z.object({
  url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1).optional(),
  /** The token's id on the controller, so `flotilla logout` can revoke it (set by `flotilla login`). */
  tokenId: z.string().min(1).optional(),
  /** The user the token belongs to; `flotilla login` offers it again. */
  username: z.string().min(1).optional(),
});
export type ContextEntry = z.infer<typeof ContextEntry>;

/** A name for a new context: a letter or digit, then letters, digits, `.`, `_` or `-`. */
export const ContextName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'must be a letter or digit, then up to 62 letters, digits, ".", "_" or "-"',
  );

/** The contexts file: named controllers and the one used when `--context` is not given. */
export const ContextFile = z.object({
  current: z.string().min(1).nullable().default(null),
  contexts: z.record(z.string().min(1), ContextEntry).default({}),
});
export type ContextFile = z.infer<typeof ContextFile>;

/** The environment variables the CLI reads; passed in so nothing else touches `process.env`. */
export interface CliEnv {
  FLOTILLA_URL?: string | undefined;
  FLOTILLA_TOKEN?: string | undefined;
  /** A current TOTP code for actions that ask for step-up (the `--totp` flag's environment form). */
  FLOTILLA_TOTP?: string | undefined;
  FLOTILLA_CONTEXT_FILE?: string | undefined;
  XDG_CONFIG_HOME?: string | undefined;
  HOME?: string | undefined;
  /** Show times in UTC when 1 (the `--utc` flag's environment form). */
  FLOTILLA_UTC?: string | undefined;
  /** The user's time zone, e.g. `Europe/Vienna`. */
  TZ?: string | undefined;
}

/** Connection settings given as flags. */
export interface ConnectionFlags {
  url?: string | undefined;
  token?: string | undefined;
  context?: string | undefined;
}

/** Where to reach the controller; `token` may be missing (health needs none). */
export interface Connection {
  url: string;
  token: string | undefined;
}

/**
 * Path of the contexts file: `FLOTILLA_CONTEXT_FILE`, else `$XDG_CONFIG_HOME/flotilla/contexts.json`,
 * else `~/.config/flotilla/contexts.json`.
 */
export function contextFilePath(env: CliEnv, homedir: string): string {
  if (nonEmpty(env.FLOTILLA_CONTEXT_FILE)) return env.FLOTILLA_CONTEXT_FILE;
  const configHome = nonEmpty(env.XDG_CONFIG_HOME)
    ? env.XDG_CONFIG_HOME
    : join(nonEmpty(env.HOME) ? env.HOME : homedir, '.config');
  return join(configHome, 'flotilla', 'contexts.json');
}

/** Reads and validates the contexts file; a missing file reads as empty. */
export async function readContexts(file: string): Promise<ContextFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { current: null, contexts: {} };
    throw new CliError('invalid_context_file', `cannot read ${file}: ${String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError('invalid_context_file', `${file} is not valid JSON: ${String(error)}`);
  }
  const parsed = ContextFile.safeParse(json);
  if (!parsed.success) {
    throw new CliError(
      'invalid_context_file',
      `${file} is malformed: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * Adds or replaces the context `name`, keeping the others; the first context becomes the
 * current one. A malformed existing file is an error rather than something to overwrite.
 */
export async function writeContext(
  file: string,
  name: string,
  entry: ContextEntry,
  options: { makeCurrent?: boolean } = {},
): Promise<ContextFile> {
  const valid = ContextEntry.safeParse(entry);
  if (!valid.success) {
    throw new CliError('invalid_context_file', `context "${name}": ${describeIssues(valid.error)}`);
  }
  const existing = await readContexts(file);
  const next: ContextFile = {
    current: options.makeCurrent === true || existing.current === null ? name : existing.current,
    contexts: { ...existing.contexts, [name]: valid.data },
  };
  await saveContexts(file, next);
  return next;
}

/** Makes `name` the current context; `context_not_found` when the file has no such context. */
export async function useContext(file: string, name: string): Promise<ContextFile> {
  const existing = await readContexts(file);
  requireContext(file, existing, name);
  const next: ContextFile = { ...existing, current: name };
  await saveContexts(file, next);
  return next;
}

/**
 * Removes the context `name`; when it was the current one, no context is current afterwards
 * (rather than silently pointing commands at another controller).
 */
export async function removeContext(file: string, name: string): Promise<ContextFile> {
  const existing = await readContexts(file);
  requireContext(file, existing, name);
  const contexts = { ...existing.contexts };
  delete contexts[name];
  const next: ContextFile = {
    current: existing.current === name ? null : existing.current,
    contexts,
  };
  await saveContexts(file, next);
  return next;
}

/**
 * The file holds API tokens, so it is written with mode 0600 (its directory 0700 when
 * created) and replaced atomically: a crash leaves the old file or the new one, never a torn
 * one, and a file that was readable by others before is no longer.
 */
async function saveContexts(file: string, contexts: ContextFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(contexts, null, 2)}\n`, 0o600);
}

function requireContext(file: string, contexts: ContextFile, name: string): ContextEntry {
  // Own keys only: `toString` is not a context.
  const entry = Object.hasOwn(contexts.contexts, name) ? contexts.contexts[name] : undefined;
  if (entry === undefined) {
    const known = Object.keys(contexts.contexts).join(', ') || 'none';
    throw new CliError('context_not_found', `no context "${name}" in ${file} (known: ${known})`);
  }
  return entry;
}

/**
 * Resolves where to connect. Each setting comes from its flag, else the environment, else the
 * context file. An explicit `--context` outranks the environment: naming a context is a flag.
 * The file is only read when something is still missing or a context was named.
 */
export async function resolveConnection(
  flags: ConnectionFlags,
  env: CliEnv,
  homedir: string,
): Promise<Connection> {
  let url = flags.url ?? (flags.context === undefined ? nonEmptyOr(env.FLOTILLA_URL) : undefined);
  let token =
    flags.token ?? (flags.context === undefined ? nonEmptyOr(env.FLOTILLA_TOKEN) : undefined);
  if (url === undefined || token === undefined) {
    const file = contextFilePath(env, homedir);
    const entry = await selectContext(file, flags.context);
    // Never send one controller's token to another: the context's token only goes with its URL.
    if (entry !== undefined && (url === undefined || sameUrl(url, entry.url))) {
      url ??= entry.url;
      token ??= entry.token;
    }
    if (url === undefined) {
      throw new CliError(
        'not_configured',
        `no controller configured: pass --url, set FLOTILLA_URL, or add a context to ${file}`,
      );
    }
  }
  return { url: checkUrl(url), token };
}

async function selectContext(
  file: string,
  name: string | undefined,
): Promise<ContextEntry | undefined> {
  return (await findContext(file, name))?.entry;
}

/**
 * The context `name`, or the current one when no name is given; undefined when none is
 * named and none is current. A name the file does not hold is `context_not_found`.
 */
export async function findContext(
  file: string,
  name: string | undefined,
): Promise<{ name: string; entry: ContextEntry } | undefined> {
  const contexts = await readContexts(file);
  const selected = name ?? contexts.current;
  return selected === null
    ? undefined
    : { name: selected, entry: requireContext(file, contexts, selected) };
}

function checkUrl(url: string): string {
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(url);
  if (!parsed.success) {
    throw new CliError('not_configured', `controller URL "${url}" is not an http(s) URL`);
  }
  return url;
}

/** Whether two controller URLs are the same but for trailing slashes. */
export function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/** `value`, or undefined when it is unset or empty (an environment variable set to nothing). */
export function nonEmptyOr(value: string | undefined): string | undefined {
  return nonEmpty(value) ? value : undefined;
}
