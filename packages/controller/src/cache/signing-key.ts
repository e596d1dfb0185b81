import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { processRunner } from '@flotilla/runtime';

/** The controller's Nix signing key pair. */
export interface SigningKey {
  /** The name inside the key, e.g. `flotilla-ctl-1`. */
  name: string;
  /** File holding the secret key (mode 0600); handed to `nix store sign --key-file`. */
  secretKeyFile: string;
  /** `name:base64`, as written in `trusted-public-keys`. */
  publicKey: string;
}

export interface SigningKeyOptions {
  /** `<stateDir>/cache`. */
  dir: string;
  /** Name for a new key; an existing key keeps the name it was created with. */
  keyName: string;
  /** The complete environment of `nix`. */
  env: Record<string, string>;
}

const NIX = ['--extra-experimental-features', 'nix-command'];
const SECRET_FILE = 'signing-key.sec';
const PUBLIC_FILE = 'signing-key.pub';

/**
 * Loads the signing key from `dir`, creating it on first start. The secret is written to a
 * private temporary file and then hard-linked into place, so the key file is never seen
 * half-written and two processes starting at once end up with the same key (the second
 * link fails and that process reads the winner's key).
 */
export async function loadOrCreateSigningKey(
  options: SigningKeyOptions,
): Promise<SigningKey & { created: boolean }> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const secretKeyFile = join(options.dir, SECRET_FILE);
  let created = false;
  if (!(await exists(secretKeyFile))) {
    const secret = await nixKey(['generate-secret', '--key-name', options.keyName], options);
    created = await writeExclusive(secretKeyFile, secret);
  }
  // Tighten a key file whose mode was loosened by hand (e.g. a restored backup).
  await chmod(secretKeyFile, 0o600);
  const secret = (await readFile(secretKeyFile, 'utf8')).trim();
  const name = secret.slice(0, secret.indexOf(':'));
  if (name === '' || !secret.includes(':')) {
    throw new Error(`${secretKeyFile} is not a Nix secret key (expected name:base64)`);
  }
  const publicKey = publicKeyOf(secretKeyFile, name, secret);
  // A copy for operators who configure hosts by hand; derived, so replaced on every start.
  const publicTmp = join(options.dir, `.${PUBLIC_FILE}.${randomBytes(6).toString('hex')}`);
  await writeDurably(publicTmp, `${publicKey}\n`, 0o644);
  await rename(publicTmp, join(options.dir, PUBLIC_FILE));
  return { name, secretKeyFile, publicKey, created };
}

/**
 * What `nix key convert-secret-to-public` prints, without starting Nix: a Nix secret key is
 * `name:base64(libsodium Ed25519 secret key)`, whose 64 bytes are the seed followed by the
 * public key.
 */
function publicKeyOf(file: string, name: string, secret: string): string {
  const bytes = Buffer.from(secret.slice(name.length + 1), 'base64');
  if (bytes.length !== 64) {
    throw new Error(`${file} is not a Nix secret key (expected 64 bytes of Ed25519 key)`);
  }
  return `${name}:${bytes.subarray(32).toString('base64')}`;
}

async function nixKey(args: string[], options: SigningKeyOptions): Promise<string> {
  const result = await processRunner.run('nix', [...NIX, 'key', ...args], {
    env: options.env,
    captureStdout: true,
    timeoutMs: 30_000,
  });
  const output = result.stdout.trim();
  if (result.exitCode !== 0 || output === '') {
    throw new Error(`nix key ${args[0]} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }
  return output;
}

/** Writes `content` to `path` unless it exists; false when another writer got there first. */
async function writeExclusive(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeDurably(tmp, `${content}\n`, 0o600);
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp);
  }
}

/** Creates a new file with `mode` from the start (never readable by others) and fsyncs it. */
async function writeDurably(path: string, content: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
