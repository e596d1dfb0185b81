import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where `cache.pushTo` sends closures, with its credentials taken out of the URL. */
export interface PushTarget {
  /** The store URL without user info; query parameters (possibly secret) stay in it. */
  storeUrl: string;
  /** The URL's user info as a netrc entry for its host, when it had any. */
  login?: { machine: string; login: string; password: string };
}

/**
 * Splits `cache.pushTo` into the store URL and the credentials in its user info
 * (`https://user:password@cache.example/`, or `https://<token>@…`). Throws for user info
 * that a netrc file cannot carry (whitespace or quotes).
 */
export function pushTarget(pushTo: string): PushTarget {
  let url: URL;
  try {
    url = new URL(pushTo);
  } catch {
    return { storeUrl: pushTo };
  }
  if (url.username === '' && url.password === '') return { storeUrl: pushTo };
  const login = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (/[\s"'\\]/.test(login + password)) {
    throw new Error('cache.pushTo: user and password must not contain whitespace or quotes');
  }
  url.username = '';
  url.password = '';
  return { storeUrl: url.toString(), login: { machine: url.hostname, login, password } };
}

/**
 * Runs `command` with an environment that hands Nix the push destination and its
 * credentials without putting either in an argument list (which every user of the machine
 * can read in `ps`): the store URL as Nix's `store` setting and the credentials in a netrc
 * file (mode 0600 in a fresh 0700 directory, removed afterwards), both through
 * `NIX_CONFIG`, which only the controller's user can read. The command then copies with
 * `nix copy --from auto` (from the local store to the `store` setting).
 */
export async function withPushEnvironment<T>(
  target: PushTarget,
  baseEnv: Record<string, string>,
  command: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-push-'));
  try {
    const settings = [`store = ${target.storeUrl}`];
    if (target.login !== undefined) {
      const { machine, login, password } = target.login;
      const netrc = join(dir, 'netrc');
      const entry = `machine ${machine} login ${login}${password === '' ? '' : ` password ${password}`}\n`;
      await writeFile(netrc, entry, { mode: 0o600 });
      settings.push(`netrc-file = ${netrc}`);
    }
    const inherited = baseEnv.NIX_CONFIG === undefined ? [] : [baseEnv.NIX_CONFIG];
    return await command({ ...baseEnv, NIX_CONFIG: [...inherited, ...settings].join('\n') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
