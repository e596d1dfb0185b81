/** Removing credentials from text that leaves the controller: errors, logs, API answers. */

const REPLACEMENT = '***';

// scheme://userinfo@ — userinfo never contains '/', '@' or whitespace (they would be escaped).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/**
 * Replaces the userinfo of every URL in `text`. For ssh URLs a bare user name (`ssh://git@…`)
 * is kept because it is not a secret; for other schemes even a lone user name is removed,
 * since GitHub accepts a token in that position.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
    const isSsh = /ssh/i.test(scheme);
    return isSsh && !userinfo.includes(':') ? `${scheme}${userinfo}@` : `${scheme}${REPLACEMENT}@`;
  });
}

/**
 * Removes URL credentials and every occurrence of the given secrets (also in their
 * percent-encoded form, as they appear inside URLs). Secrets shorter than 4 characters are
 * ignored: replacing them would mangle ordinary text without protecting anything.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join(REPLACEMENT);
    }
  }
  return redactUrlCredentials(out);
}

/** True when a URL carries a password (`scheme://user:password@host`), which is refused. */
export function urlHasPassword(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(url);
}
