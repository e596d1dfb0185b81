import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { generationNumbers } from '../facts/generations.js';
import type { CacheSource, ErrorCode } from '@flotilla/protocol';
import {
  describeExit,
  systemClock,
  writeFileAtomic,
  type CancelTimer,
  type Clock,
  type OutputStream,
  type ProcessRunner,
  type RunResult,
} from '@flotilla/runtime';
import type { CacheCredentialGrant } from '../connection.js';
import { checkCacheUrl, netrcEntry } from './cache-credentials.js';
import { lockProfile, switchProfile, type ProfileLock } from './profile-switch.js';
import { parsePathInfo, trustedSigners } from './closure-signature.js';

/**
 * Success, or a reason that is safe to show (it never contains credentials), with the
 * error code to report when it is not the step's usual one.
 */
export type StepOutcome = { ok: true } | { ok: false; reason: string; code?: ErrorCode };

export type OnOutputLine = (stream: OutputStream, line: string) => void;

/**
 * A switched profile, with the work left to do that makes a new generation a GC root of
 * its own: `root` starts it (it never rejects; the deployment's pin keeps the system until
 * it is done).
 */
export type ProfileOutcome =
  { ok: true; root: () => Promise<void> } | Extract<StepOutcome, { ok: false }>;

/** The Nix operations a deployment needs; an interface so the executor can be tested alone. */
export interface SystemStore {
  /** Whether the path and its closure are in the local store. */
  isValid(storePath: string): Promise<boolean>;
  /**
   * Copies the closure from the controller's binary cache; every path must be signed by
   * one of the agent's own trusted keys (or be content-addressed and named by one that is).
   * A fetch of a path that is already being fetched (a plan's prefetch, say) waits for
   * that one instead of downloading it a second time.
   */
  fetch(cache: CacheSource, storePath: string, onLine: OnOutputLine): Promise<StepOutcome>;
  /** Whether the path itself carries a valid signature by one of the agent's trusted keys. */
  checkSignature(storePath: string): Promise<StepOutcome>;
  /** The generation of `profile` that holds `storePath`; null when none does. */
  generationOf(profile: string, storePath: string): Promise<number | null>;
  /**
   * Points the profile at the path: back at the newest generation that holds it, or at a
   * new generation.
   */
  setProfile(
    profile: string,
    storePath: string,
    onLine: OnOutputLine,
    lock?: ProfileLock | null,
  ): Promise<ProfileOutcome>;
  /**
   * Takes the profile's lock ahead of a `setProfile` that is likely to follow (which then
   * gets it, and releases it); null when it cannot be taken now, and `setProfile` tries
   * itself. Never rejects.
   */
  lockProfile(profile: string): Promise<ProfileLock | null>;
  /**
   * Makes `root` an indirect GC root of the first path, `root-2` of the second and so on
   * (Nix's own naming; replacing what they pointed at), all in one go. Nothing is fetched:
   * when a path is not in the store, it fails and pins none, so a success also tells that
   * every path is in the store.
   */
  pin(storePaths: readonly string[], root: string): Promise<StepOutcome>;
  /** Removes a root made by `pin`; the path may be collected again. */
  unpin(root: string): Promise<void>;
  /**
   * Whether the path was made ready here without Nix having to be asked again: a root made
   * by `pin` still holds it (so it is in the store and stays there), and its signature was
   * found good by `checkSignature` since it came into the store (the same directory, not
   * one deleted and added again). A plan's prefetch leaves its release so.
   */
  prepared(storePath: string): Promise<boolean>;
}

export interface NixStoreOptions {
  runner: ProcessRunner;
  env: Record<string, string>;
  /** Where short-lived netrc files are written (mode 0600). */
  stateDir: string;
  /** The agent's ws(s) controller URL: the only origin closures are fetched from. */
  controllerUrl: string;
  /** The keys (`name:base64`) of the agent's own config; nothing else is trusted. */
  trustedPublicKeys: readonly string[];
  /** The controller's CA file, for Nix's HTTPS (`NIX_SSL_CERT_FILE`); null: the system's. */
  caFile: string | null;
  /** A fresh short-lived cache credential, asked for over the controller connection. */
  credential: () => Promise<CacheCredentialGrant>;
  clock?: Clock;
}

/** How many paths found signed are remembered for {@link SystemStore.prepared}. */
const MAX_SIGNED_PATHS = 32;

/** {@link SystemStore} on the real `nix`, `nix-store` and `nix-env` commands. */
export class NixStore implements SystemStore {
  /** Copies under way, by store path. */
  private readonly fetching = new Map<string, Promise<StepOutcome>>();
  /** Paths found signed by a trusted key, with the identity of their directory then. */
  private readonly signedPaths = new Map<string, string>();
  /** The paths of each root made by `pin` (the first's root is the root's own name). */
  private readonly pinned = new Map<string, readonly string[]>();

  constructor(private readonly options: NixStoreOptions) {}

  async isValid(storePath: string): Promise<boolean> {
    const result = await this.options.runner.run('nix-store', ['--check-validity', storePath], {
      env: this.options.env,
    });
    return result.exitCode === 0;
  }

  fetch(cache: CacheSource, storePath: string, onLine: OnOutputLine): Promise<StepOutcome> {
    const running = this.fetching.get(storePath);
    if (running !== undefined) {
      onLine('stdout', `${storePath} is being fetched already; waiting for that copy`);
      return running;
    }
    const copy = this.copy(cache, storePath, onLine).finally(() => {
      this.fetching.delete(storePath);
    });
    this.fetching.set(storePath, copy);
    return copy;
  }

  private async copy(
    cache: CacheSource,
    storePath: string,
    onLine: OnOutputLine,
  ): Promise<StepOutcome> {
    let url: string;
    try {
      url = checkCacheUrl(cache.url, this.options.controllerUrl);
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
    let netrc: RefreshedNetrc;
    try {
      netrc = await this.openNetrc(url);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `cannot get a cache credential: ${reason}` };
    }
    try {
      // Signatures are required (`require-sigs`, never `--no-check-sigs`) and only the
      // agent's own keys are trusted. A zero negative TTL stops a path that was asked for
      // before it was pushed from staying "missing" for an hour; Nix 2.8 has no connect
      // timeout otherwise.
      const args = [
        '--extra-experimental-features',
        'nix-command',
        'copy',
        '--from',
        url,
        '--option',
        'require-sigs',
        'true',
        '--option',
        'trusted-public-keys',
        this.options.trustedPublicKeys.join(' '),
        '--option',
        'narinfo-cache-negative-ttl',
        '0',
        '--option',
        'connect-timeout',
        '10',
        '--option',
        'netrc-file',
        netrc.path,
        storePath,
      ];
      const result = await this.options.runner.run('nix', args, { env: this.nixEnv(), onLine });
      if (result.exitCode === 0) return { ok: true };
      const reason = failure(`nix copy from ${url}`, result);
      const unsigned = result.stderrTail.some((line) => UNSIGNED.test(line));
      return unsigned ? { ok: false, reason, code: 'untrusted_closure' } : { ok: false, reason };
    } finally {
      await netrc.close();
    }
  }

  async checkSignature(storePath: string): Promise<StepOutcome> {
    const before = await pathIdentity(storePath);
    const checked = await this.checkSignatureWithNix(storePath);
    if (checked.ok && before !== null && (await pathIdentity(storePath)) === before) {
      // Only the last few matter (a plan's release, a deployment's); the oldest goes first.
      this.signedPaths.delete(storePath);
      this.signedPaths.set(storePath, before);
      const oldest = this.signedPaths.keys().next();
      if (this.signedPaths.size > MAX_SIGNED_PATHS && oldest.done !== true) {
        this.signedPaths.delete(oldest.value);
      }
    }
    return checked;
  }

  async prepared(storePath: string): Promise<boolean> {
    const identity = this.signedPaths.get(storePath);
    if (identity === undefined) return false;
    if ((await pathIdentity(storePath)) !== identity) {
      this.signedPaths.delete(storePath);
      return false;
    }
    for (const [root, paths] of this.pinned) {
      const index = paths.indexOf(storePath);
      if (index < 0) continue;
      const link = index === 0 ? root : `${root}-${index + 1}`;
      if ((await readlink(link).catch(() => null)) === storePath) return true;
    }
    return false;
  }

  private async checkSignatureWithNix(storePath: string): Promise<StepOutcome> {
    const result = await this.options.runner.run(
      'nix',
      ['--extra-experimental-features', 'nix-command', 'path-info', '--json', '--sigs', storePath],
      { env: this.options.env, captureStdout: true },
    );
    if (result.exitCode !== 0) {
      return { ok: false, reason: failure(`nix path-info ${storePath}`, result) };
    }
    const info = parsePathInfo(result.stdout, storePath);
    if (info === null) {
      return { ok: false, reason: `nix path-info gave no usable signature data for ${storePath}` };
    }
    if (trustedSigners(info, this.options.trustedPublicKeys).length > 0) return { ok: true };
    const names = this.options.trustedPublicKeys.map((key) => key.split(':')[0]).join(', ');
    return {
      ok: false,
      code: 'untrusted_closure',
      reason:
        `${storePath} is not signed by any of this host's trusted keys (${names}); ` +
        (info.signatures.length === 0
          ? 'it carries no signature'
          : `its signatures are by ${info.signatures.map((sig) => sig.split(':')[0]).join(', ')}`),
    };
  }

  generationOf(profile: string, storePath: string): Promise<number | null> {
    return generationHolding(profile, storePath);
  }

  /**
   * Writes a netrc file (0600, a fresh name so concurrent fetches never share one) with a
   * new cache credential, and replaces it with a fresh one at half its lifetime for as long
   * as the copy runs: curl reads the file for every request, so a long copy never outlives
   * its credential.
   */
  private async openNetrc(url: string): Promise<RefreshedNetrc> {
    const clock = this.options.clock ?? systemClock;
    await mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    const path = join(this.options.stateDir, `netrc-${randomUUID()}`);
    const write = async (grant: CacheCredentialGrant) => {
      await writeFileAtomic(path, netrcEntry(url, grant.token), 0o600);
      return Date.parse(grant.expiresAt);
    };
    let expiresAt = await write(await this.options.credential());
    let cancel: CancelTimer | null = null;
    let closed = false;
    const schedule = () => {
      const delay = Math.max(1000, (expiresAt - clock.now().getTime()) / 2);
      cancel = clock.setTimer(() => {
        void this.options
          .credential()
          .then(async (grant) => {
            if (!closed) expiresAt = await write(grant);
          })
          // A failed refresh leaves the old credential; nix copy reports if it runs out.
          .catch(() => undefined)
          .finally(() => {
            if (!closed) schedule();
          });
      }, delay);
    };
    schedule();
    return {
      path,
      close: async () => {
        closed = true;
        cancel?.();
        await rm(path, { force: true });
      },
    };
  }

  private nixEnv(): Record<string, string> {
    const { env, caFile } = this.options;
    return caFile === null ? env : { ...env, NIX_SSL_CERT_FILE: caFile };
  }

  async lockProfile(profile: string): Promise<ProfileLock | null> {
    try {
      const locked = await lockProfile(profile, this.options.env);
      return locked.ok ? locked.lock : null;
    } catch {
      return null;
    }
  }

  async setProfile(
    profile: string,
    storePath: string,
    onLine: OnOutputLine,
    lock: ProfileLock | null = null,
  ): Promise<ProfileOutcome> {
    try {
      await mkdir(dirname(profile), { recursive: true });
    } catch (error) {
      await lock?.release();
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `cannot create the profile directory: ${reason}` };
    }
    // A system that already is a generation of the profile (a rollback, or an earlier
    // release again) is switched back to, not copied on top as a new generation: the
    // generations then keep telling what ran before what, and "the generation before the
    // current one" never becomes the system that was just rolled away from.
    const switched = await switchProfile({ profile, storePath, env: this.options.env, lock });
    if (switched.ok) {
      const from = switched.previous === null ? 'none' : String(switched.previous);
      onLine(
        'stdout',
        `switched profile from generation ${from} to ${switched.generation}${switched.created ? ' (new)' : ''}`,
      );
      const root = async () => {
        if (!switched.created) return;
        // A generation stays: its root is not one to remember for `prepared`.
        const pinned = await this.addRoots([storePath], switched.link);
        if (!pinned.ok) onLine('stderr', `warning: ${pinned.reason}`);
      };
      return { ok: true, root };
    }
    if (!switched.unavailable) return { ok: false, reason: switched.reason };
    // No util-linux `flock` on this host: `nix-env` takes the lock and does the same.
    onLine('stderr', `${switched.reason}; switching with nix-env`);
    const generation = await generationHolding(profile, storePath);
    const args =
      generation === null
        ? ['-p', profile, '--set', storePath]
        : ['-p', profile, '--switch-generation', String(generation)];
    const result = await this.options.runner.run('nix-env', args, {
      env: this.options.env,
      onLine,
    });
    if (result.exitCode === 0) return { ok: true, root: () => Promise.resolve() };
    return { ok: false, reason: failure(`nix-env ${args[2] ?? ''} on ${profile}`, result) };
  }

  async pin(storePaths: readonly string[], root: string): Promise<StepOutcome> {
    const added = await this.addRoots(storePaths, root);
    if (added.ok) this.pinned.set(root, [...storePaths]);
    return added;
  }

  /** `nix-store --add-root`, without remembering the root (which `pin` does, for `prepared`). */
  private async addRoots(storePaths: readonly string[], root: string): Promise<StepOutcome> {
    try {
      await mkdir(dirname(root), { recursive: true, mode: 0o700 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `cannot create the GC roots directory: ${reason}` };
    }
    // `--indirect` is what Nix 2.8 needs for a root outside /nix/var/nix/gcroots; newer
    // versions make every such root indirect and accept the flag. No substituters: a path
    // missing here is fetched only from the controller's cache, by `fetch`, never as a side
    // effect of pinning it.
    const result = await this.options.runner.run(
      'nix-store',
      [
        '--option',
        'substituters',
        '',
        '--realise',
        ...storePaths,
        '--add-root',
        root,
        '--indirect',
      ],
      { env: this.options.env },
    );
    if (result.exitCode === 0) return { ok: true };
    return { ok: false, reason: failure(`nix-store --add-root ${root}`, result) };
  }

  async unpin(root: string): Promise<void> {
    this.pinned.delete(root);
    await rm(root, { force: true });
  }
}

/** A netrc file kept fresh while a fetch runs. */
interface RefreshedNetrc {
  path: string;
  close(): Promise<void>;
}

/** How Nix says a path lacks a signature by a trusted key (2.8 and later). */
const UNSIGNED = /lacks a valid signature|not signed by any of the keys/;

function failure(what: string, result: RunResult): string {
  const lastError = result.stderrTail.filter((line) => line.trim() !== '').at(-1);
  return `${what} ${describeExit(result)}${lastError === undefined ? '' : `: ${lastError.trim()}`}`;
}

/**
 * Which directory a store path is (device, inode, change time), or null when it is not
 * there: a path deleted and added again (by a garbage collection and another copy) is a
 * different one, whose signature has not been checked.
 */
async function pathIdentity(path: string): Promise<string | null> {
  try {
    const stats = await lstat(path, { bigint: true });
    return `${stats.dev}:${stats.ino}:${stats.ctimeNs}`;
  } catch {
    return null;
  }
}

/** The newest generation of `profile` whose link points at `storePath`; null when none does. */
async function generationHolding(profile: string, storePath: string): Promise<number | null> {
  let entries: string[];
  try {
    entries = await readdir(dirname(profile));
  } catch {
    return null;
  }
  for (const [number, name] of generationNumbers(basename(profile), entries)) {
    try {
      if ((await readlink(join(dirname(profile), name))) === storePath) return number;
    } catch {
      // Not a link (or gone meanwhile): not a generation of this system.
    }
  }
  return null;
}
