import { randomBytes, randomInt } from 'node:crypto';
import argon2 from 'argon2';

/**
 * Passwords are kept as argon2id hashes (the library's defaults: 64 MiB, 3 passes, 4
 * lanes), never as text; a wrong password costs an attacker the same hash.
 */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A hash to verify against when the user does not exist, so timing does not tell. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

const WORDS_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A generated password: 4 groups of 5 unambiguous characters (about 99 bits). */
export function generatePassword(): string {
  const chars = Array.from(
    { length: 20 },
    () => WORDS_ALPHABET[randomInt(WORDS_ALPHABET.length)],
  ).join('');
  return chars.match(/.{5}/g)?.join('-') ?? chars;
}
