import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, describeIssues } from './errors.js';

/** One named controller: where it is and the admin token to use. */
export const ContextEntry = z.object({
  url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1),
});
export type ContextEntry = z.infer<typeof ContextEntry>;

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
 * Adds or replaces the context `name`, keeping the others. The file holds admin tokens, so it is
 * written with mode 0600 (its directory 0700) and replaced atomically by a rename. A malformed
 * existing file is an error rather than something to overwrite.
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
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  // `mode` only applies when the file is created, so clear any leftover from a crashed write.
  await rm(temporary, { force: true });
  await writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temporary, file);
  return next;
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
  const contexts = await readContexts(file);
  const selected = name ?? contexts.current;
  if (selected === null) return undefined;
  const entry = contexts.contexts[selected];
  if (entry === undefined) {
    const known = Object.keys(contexts.contexts).join(', ') || 'none';
    throw new CliError(
      'context_not_found',
      `no context "${selected}" in ${file} (known: ${known})`,
    );
  }
  return entry;
}

function checkUrl(url: string): string {
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(url);
  if (!parsed.success) {
    throw new CliError('not_configured', `controller URL "${url}" is not an http(s) URL`);
  }
  return url;
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function nonEmptyOr(value: string | undefined): string | undefined {
  return nonEmpty(value) ? value : undefined;
}
