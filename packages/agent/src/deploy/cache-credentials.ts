/**
 * A binary cache URL split into the part Nix may see (and log) and the credentials that
 * must reach it only through a netrc file.
 */
export interface CacheAccess {
  /** The URL without user name and password. */
  url: string;
  /** A netrc entry for the cache's host, or null when the URL carries no credentials. */
  netrc: string | null;
}

/**
 * Splits credentials out of a cache URL such as `https://user:secret@cache.example/fleet`.
 * Throws when the credentials cannot be written to netrc (whitespace or quotes in them),
 * with a message that does not contain them.
 */
export function splitCacheCredentials(cacheUrl: string): CacheAccess {
  const url = new URL(cacheUrl);
  if (url.username === '' && url.password === '') return { url: cacheUrl, netrc: null };
  const login = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (/[\s"]/.test(login + password) || login === '') {
    throw new Error(
      `the credentials in the cache URL for ${url.host} cannot be expressed in a netrc file`,
    );
  }
  url.username = '';
  url.password = '';
  // netrc matches on the host name alone; curl ignores the port.
  return {
    url: url.toString(),
    netrc: `machine ${url.hostname} login ${login} password ${password}\n`,
  };
}

/** The controller this agent connects to, and the host token it connects with. */
export interface HostCredentials {
  /** The agent's ws:// or wss:// controller URL. */
  controllerUrl: string;
  /** Secret: only ever written to a netrc file for the controller's own origin. */
  token: string;
}

/** {@link CacheAccess}, and whether the host token is what the netrc entry holds. */
export interface ResolvedCacheAccess extends CacheAccess {
  usesHostToken: boolean;
}

/** The user name in netrc entries carrying the host token; the controller ignores it. */
const HOST_TOKEN_LOGIN = 'flotilla';

/**
 * How to reach a cache named in a deploy request. Credentials in the URL are used as
 * given. Otherwise the host token is added only when the cache has exactly the controller's
 * origin (scheme, host and port, with ws→http and wss→https), so a deploy request can never
 * make the agent send its token anywhere else. netrc entries match host names only; curl
 * sends them to no other host, also not after a redirect.
 */
export function resolveCacheAccess(cacheUrl: string, host: HostCredentials): ResolvedCacheAccess {
  const split = splitCacheCredentials(cacheUrl);
  if (split.netrc !== null) return { ...split, usesHostToken: false };
  const cache = new URL(cacheUrl);
  if (cache.origin !== controllerHttpOrigin(host.controllerUrl)) {
    return { ...split, usesHostToken: false };
  }
  if (/[\s"]/.test(host.token) || host.token === '') {
    throw new Error('the host token cannot be expressed in a netrc file');
  }
  return {
    url: cacheUrl,
    netrc: `machine ${cache.hostname} login ${HOST_TOKEN_LOGIN} password ${host.token}\n`,
    usesHostToken: true,
  };
}

/** The http(s) origin of a ws(s) controller URL, e.g. `wss://fleet:8443/x` → `https://fleet:8443`. */
export function controllerHttpOrigin(controllerUrl: string): string {
  const url = new URL(controllerUrl);
  const scheme = { 'ws:': 'http:', 'wss:': 'https:' }[url.protocol] ?? url.protocol;
  return new URL(`${scheme}//${url.host}`).origin;
}
