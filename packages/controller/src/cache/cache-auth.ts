/**
 * The cache credential in a cache request's `Authorization` header, or undefined.
 *
 * Nix reaches the cache with curl and a netrc file, which sends HTTP Basic: the credential
 * is the password and the user name is ignored (any name works, so a netrc line needs no
 * host-specific login). `Bearer <credential>` is accepted too, for curl and scripts.
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(\S+) +(\S+)\s*$/.exec(header);
  if (!match) return undefined;
  const [, scheme = '', value = ''] = match;
  switch (scheme.toLowerCase()) {
    case 'bearer':
      return value;
    case 'basic':
      return basicPassword(value);
    default:
      return undefined;
  }
}

function basicPassword(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const password = decoded.slice(colon + 1);
  return password === '' ? undefined : password;
}

/** The challenge sent with a 401, so curl-based clients retry with their netrc entry. */
export const CACHE_AUTH_CHALLENGE = 'Basic realm="flotilla"';
