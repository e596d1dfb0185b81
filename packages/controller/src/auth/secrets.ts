import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * Passwords are kept as argon2id hashes (the library's defaults: 64 MiB, 3 passes, 4
 * lanes), never as text; a wrong password costs an attacker the same hash.
 */
export async function hashPassword(password: string): Promise<string> {
  const argon2 = await loadArgon2();
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await (await loadArgon2()).verify(hash, password);
  } catch {
    return false;
  }
}

/** The native argon2 module, loaded on first use: a start that checks no password skips it. */
let argon2Module: Argon2 | undefined;
type Argon2 = typeof import('argon2');
function loadArgon2(): Promise<Argon2> {
  // A native CommonJS module, required (not imported): the bundled controller runs from a
  // code cache, where a dynamic import() has nothing to resolve it (scripts/bundle.mjs).
  argon2Module ??= createRequire(import.meta.url)('argon2') as Argon2;
  return Promise.resolve(argon2Module);
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
