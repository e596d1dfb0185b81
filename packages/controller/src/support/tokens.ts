import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new random bearer token (256 bits), URL-safe. */
export function generateToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 of a token, hex. Tokens are random and long, so a fast hash is enough:
 * a stolen database does not reveal them and they cannot be guessed offline.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two tokens in constant time (hashing first makes the lengths equal). */
export function tokensEqual(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(a).digest(),
    createHash('sha256').update(b).digest(),
  );
}

/** A short, time-ordered, unique id such as `d0m3k9x2a7qz`. */
export function newId(prefix: string, now: Date): string {
  return `${prefix}${now.getTime().toString(36)}${randomBytes(3).toString('hex')}`;
}
