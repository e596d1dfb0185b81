/**
 * What kind of git remote a repository URL names, judged by its text alone. Git reads a
 * remote URL in several ways (`--option`-looking text, `transport::address` remote helpers
 * such as `ext::`, scp-like `host:path`, local paths); only the kinds below are ever given to
 * git, and which of them a link may use depends on where it came from (see
 * {@link repositoryUrlProblem}).
 *
 * - `https`, `http`: `https://host/path` (`http` only from the config file, never with a token)
 * - `ssh`: `ssh://[user@]host[:port]/path`
 * - `scp`: `user@host:path`, the form GitHub shows for ssh clones
 * - `file`: `file:///path`; `path`: an absolute local path (both only from the config file)
 */
export type RepositoryUrlKind = 'https' | 'http' | 'ssh' | 'scp' | 'file' | 'path';

/** Where a link comes from: the API (anyone with the admin role) or the config file (the operator). */
export type RepositoryUrlOrigin = 'api' | 'config';

// A host name or address as git passes it on to curl or ssh: never an option (`-oProxyCommand`).
const HOST = String.raw`(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])`;
const USER = String.raw`[A-Za-z0-9][A-Za-z0-9._-]*`;
const SCP = new RegExp(String.raw`^${USER}@${HOST}:(?!/?-)[A-Za-z0-9._~/+-]+$`);
const SSH = new RegExp(String.raw`^ssh://(?:${USER}@)?${HOST}(?::\d{1,5})?/[^\s]*$`, 'i');

/** The kind of a repository URL, or undefined when git must never be given it. */
export function repositoryUrlKind(url: string): RepositoryUrlKind | undefined {
  // Options (`--upload-pack=…`), whitespace and control characters are never a URL.
  if (url.startsWith('-') || /[\s\u0000-\u001f\u007f]/.test(url)) return undefined;
  if (SSH.test(url)) return 'ssh';
  if (SCP.test(url)) return 'scp';
  if (url.startsWith('/')) return url.includes('::') ? undefined : 'path';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  switch (parsed.protocol) {
    case 'https:':
    case 'http:':
      if (parsed.hostname === '' || parsed.hostname.startsWith('-')) return undefined;
      return parsed.protocol === 'https:' ? 'https' : 'http';
    case 'file:':
      return parsed.host === '' && parsed.pathname.startsWith('/') ? 'file' : undefined;
    default:
      return undefined;
  }
}

/**
 * Why a repository URL may not be linked from `origin`, or undefined when it may. The API
 * takes only remote URLs git reaches over https or ssh; http, `file://` and local paths
 * come from the config file alone. A token travels only over https.
 */
export function repositoryUrlProblem(
  url: string,
  origin: RepositoryUrlOrigin,
  options: { token: boolean },
): string | undefined {
  const kind = repositoryUrlKind(url);
  if (kind === undefined) {
    return 'must be an https://, ssh:// or user@host:path URL (local paths only in the config file)';
  }
  if (origin === 'api' && (kind === 'http' || kind === 'file' || kind === 'path')) {
    return kind === 'http'
      ? 'must use https:// (plain http only in the config file)'
      : 'local repositories can only be linked in the config file';
  }
  if (options.token && kind !== 'https') return 'a token is only ever sent over https://';
  return undefined;
}
