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
