import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { generationNumbers } from '../facts/generations.js';

/**
 * Switches a Nix profile the way `nix-env --set` and `--switch-generation` do, without
 * starting `nix-env` (a tenth of a second on a small host, the largest single cost of a
 * deployment after the activation itself). Under Nix's own profile lock, so it never races
 * a `nix-env`, `nixos-rebuild` or `nix-collect-garbage` on the same profile:
 *
 * - The lock is Nix's: an exclusive flock(2) on `<profile>.lock` (Nix's `PathLocks`). Node.js
 *   cannot call flock(2), so util-linux's `flock` takes it on a descriptor this process
 *   opened and passes down; the lock belongs to that open file and outlives `flock`'s exit
 *   until this process closes it. A lock file Nix deleted meanwhile holds a byte: stale,
 *   so it is opened again, as Nix does. Released the way Nix releases it: unlinked, marked
 *   stale, closed.
 * - Under the lock, exactly what Nix does: the newest generation that holds the system is
 *   switched back to; otherwise a new generation `<profile>-<n+1>-link` (absolute link to
 *   the store path) is made; then the profile link is pointed at the generation's name
 *   (relative, like Nix) by renaming a fresh link over it, so it is never missing.
 *
 * A new generation link is a GC root only because Nix scans its profiles folder, or
 * through an indirect root registered for it: `registerRoot` is the caller's job (with
 * `nix-store --add-root`, which also works for a store of any configuration), and until
 * then the deployment's own pin keeps the system.
 */

export type ProfileSwitch =
  | {
      ok: true;
      /** The generation the profile now points at. */
      generation: number;
      /** The one it pointed at before; null when there was none. */
      previous: number | null;
      /** A new generation link was made (its GC root is the caller's job). */
      created: boolean;
      /** That link's path. */
      link: string;
    }
  | {
      ok: false;
      reason: string;
      /** `flock` could not be started: the caller may fall back to `nix-env`. */
      unavailable: boolean;
    };

export interface ProfileSwitchOptions {
  profile: string;
  storePath: string;
  /** The environment `flock` runs with (its PATH finds it). */
  env: Record<string, string>;
  /** How long to wait for another holder of the lock (s); `nix-env` waits forever. */
  lockWaitSeconds?: number;
  /**
   * The profile's lock, taken ahead (see {@link lockProfile}); released here. Taken here
   * when absent (or when it is of another profile).
   */
  lock?: ProfileLock | null;
}

/** Nix's lock on a profile, held until released (or until this process exits). */
export interface ProfileLock {
  readonly profile: string;
  /** Idempotent. */
  release(): Promise<void>;
}

export type LockOutcome =
  { ok: true; lock: ProfileLock } | { ok: false; reason: string; unavailable: boolean };

/** How often a lock file that became stale while we waited is opened again. */
const MAX_LOCK_ATTEMPTS = 10;

export async function switchProfile(options: ProfileSwitchOptions): Promise<ProfileSwitch> {
  const { profile, storePath } = options;
  let lock = options.lock ?? null;
  if (lock !== null && lock.profile !== profile) {
    await lock.release();
    lock = null;
  }
  if (lock === null) {
    const locked = await lockProfile(profile, options.env, options.lockWaitSeconds ?? 60);
    if (!locked.ok) return locked;
    lock = locked.lock;
  }
  try {
    return await switchLocked(profile, storePath);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `cannot switch profile ${profile}: ${reason}`, unavailable: false };
  } finally {
    // Before anything else runs: `switch-to-configuration boot` lists the generations
    // with `nix-env`, which takes this lock too.
    await lock.release();
  }
}

async function switchLocked(profile: string, storePath: string): Promise<ProfileSwitch> {
  const dir = dirname(profile);
  const name = basename(profile);
  const generations = generationNumbers(name, await readdir(dir));
  const previous = await currentGeneration(profile);
  let generation: number | null = null;
  for (const [number, link] of generations) {
    if ((await readLinkOrNull(join(dir, link))) === storePath) {
      generation = number;
      break;
    }
  }
  let created = false;
  if (generation === null) {
    const newest = generations.keys().next();
    generation = (newest.done === true ? 0 : newest.value) + 1;
    // Never replaces a link: under the lock the name is free, and if it is not, failing is right.
    await symlink(storePath, join(dir, `${name}-${generation}-link`));
    created = true;
  }
  const linkName = `${name}-${generation}-link`;
  const temp = join(dir, `.${name}.${randomUUID()}.tmp`);
  await symlink(linkName, temp);
  try {
    await rename(temp, profile);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { ok: true, generation, previous, created, link: join(dir, linkName) };
}

/** The generation the profile link points at; null without a profile or a generation link. */
async function currentGeneration(profile: string): Promise<number | null> {
  const target = await readLinkOrNull(profile);
  if (target === null) return null;
  const [number] = generationNumbers(basename(profile), [basename(target)]).keys();
  return number ?? null;
}

async function readLinkOrNull(path: string): Promise<string | null> {
  try {
    return await readlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Takes Nix's lock on the profile (see the top of this file), e.g. ahead of a switch that
 * is likely to follow; every `nix-env` on the profile waits while it is held.
 */
export async function lockProfile(
  profile: string,
  env: Record<string, string>,
  waitSeconds = 60,
): Promise<LockOutcome> {
  const locked = await lockFile(profile, env, waitSeconds);
  if (!('handle' in locked)) return { ok: false, ...locked };
  let released: Promise<void> | null = null;
  const release = () => (released ??= unlockProfile(`${profile}.lock`, locked.handle));
  return { ok: true, lock: { profile, release } };
}

type Locked = { handle: FileHandle } | { reason: string; unavailable: boolean };

async function lockFile(
  profile: string,
  env: Record<string, string>,
  waitSeconds: number,
): Promise<Locked> {
  const lockPath = `${profile}.lock`;
  for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt++) {
    let handle: FileHandle;
    try {
      handle = await open(lockPath, constants.O_RDWR | constants.O_CREAT, 0o600);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { reason: `cannot open the profile lock: ${reason}`, unavailable: false };
    }
    const taken = await flockDescriptor(handle, env, waitSeconds);
    if (taken !== null) {
      await handle.close();
      return taken;
    }
    if ((await handle.stat()).size === 0) return { handle };
    // Nix deleted this lock file while we waited (and wrote its stale mark): a new one counts.
    await handle.close();
  }
  return { reason: `the lock ${lockPath} kept going stale`, unavailable: false };
}

/** Runs `flock --exclusive` on the handle's open file (as the child's fd 3); null once held. */
function flockDescriptor(
  handle: FileHandle,
  env: Record<string, string>,
  waitSeconds: number,
): Promise<{ reason: string; unavailable: boolean } | null> {
  return new Promise((resolve) => {
    const child = spawn('flock', ['--exclusive', '--wait', String(waitSeconds), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', handle.fd],
      env,
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve({
        reason: `cannot run flock: ${error.message}`,
        unavailable: error.code === 'ENOENT' || error.code === 'EACCES',
      }),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(null);
      const detail = stderr.trim().split('\n').at(-1) ?? '';
      resolve({
        reason:
          code === 1
            ? `another process held the profile lock for over ${waitSeconds} s`
            : `flock ${signal === null ? `exited ${String(code)}` : `was killed by ${signal}`}${detail === '' ? '' : `: ${detail}`}`,
        unavailable: false,
      });
    });
  });
}

/** Releases the lock as Nix does: the file is removed and marked stale before it is closed. */
async function unlockProfile(lockPath: string, handle: FileHandle): Promise<void> {
  try {
    await unlink(lockPath);
    await handle.write('d');
  } catch {
    // Left in place, the lock file is harmless: the next holder takes it as it is.
  } finally {
    await handle.close();
  }
}
