/** Query parameters of a store URL whose values may be credentials. */
const SECRET_PARAM = /secret|token|pass|key|auth|cred|sig/i;

const MASK = '***';

/** `scheme://userinfo@`: everything before the host that may hold credentials. */
const USER_INFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^@/?#]*@/;

/**
 * A Nix store URL safe to log or show: the user info (`user:password@`) and the values of
 * secret-looking query parameters are masked. URLs Node cannot parse (`daemon`, a plain
 * path) carry no credentials and are returned unchanged.
 */
export function redactStoreUrl(storeUrl: string): string {
  const url = parse(storeUrl);
  if (!url) return storeUrl;
  let text = storeUrl.replace(USER_INFO, `$1${MASK}@`);
  for (const secret of querySecrets(url)) text = text.split(secret).join(MASK);
  return text;
}

/**
 * Masks every credential of `storeUrl` wherever it appears in `text` (Nix's error output
 * repeats the URL), in raw and percent-decoded form. A user name is treated as a secret
 * only when there is no password, as in `https://<token>@cache.example`.
 */
export function scrubStoreUrlSecrets(text: string, storeUrl: string): string {
  const url = parse(storeUrl);
  if (!url) return text;
  const secrets = [
    ...variants(url.password),
    ...(url.password === '' ? variants(url.username) : []),
    ...querySecrets(url),
  ].sort((a, b) => b.length - a.length);
  let scrubbed = text;
  for (const secret of secrets) scrubbed = scrubbed.split(secret).join(MASK);
  return scrubbed;
}

function parse(storeUrl: string): URL | undefined {
  try {
    return new URL(storeUrl);
  } catch {
    return undefined;
  }
}

function querySecrets(url: URL): string[] {
  const secrets: string[] = [];
  for (const [name, value] of url.searchParams) {
    if (SECRET_PARAM.test(name))
      secrets.push(...variants(value), ...variants(encodeURIComponent(value)));
  }
  return secrets.sort((a, b) => b.length - a.length);
}

/** A value as written in the URL and percent-decoded; nothing for an empty value. */
function variants(value: string): string[] {
  if (value === '') return [];
  try {
    return [value, decodeURIComponent(value)];
  } catch {
    return [value];
  }
}
