import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { generationNumbers } from '../facts/generations.js';
import type { CacheSource } from '@flotilla/protocol';
import {
  describeExit,
  type OutputStream,
  type ProcessRunner,
  type RunResult,
} from '@flotilla/runtime';
import {
  controllerHttpOrigin,
  resolveCacheAccess,
  type HostCredentials,
} from './cache-credentials.js';

/** Success, or a reason that is safe to show (it never contains credentials). */
export type StepOutcome = { ok: true } | { ok: false; reason: string };

export type OnOutputLine = (stream: OutputStream, line: string) => void;

/** The Nix operations a deployment needs; an interface so the executor can be tested alone. */
export interface SystemStore {
  /** Whether the path and its closure are in the local store. */
  isValid(storePath: string): Promise<boolean>;
  /** Copies the closure from a binary cache, checking signatures against the given keys. */
  fetch(cache: CacheSource, storePath: string, onLine: OnOutputLine): Promise<StepOutcome>;
  /** Points the profile at the path, adding a generation when it differs. */
  setProfile(profile: string, storePath: string, onLine: OnOutputLine): Promise<StepOutcome>;
  /** Makes `root` an indirect GC root of the path (replacing what it pointed at). */
  pin(storePath: string, root: string): Promise<StepOutcome>;
  /** Removes a root made by `pin`; the path may be collected again. */
  unpin(root: string): Promise<void>;
}

export interface NixStoreOptions {
  runner: ProcessRunner;
  env: Record<string, string>;
  /** Where short-lived netrc files are written (mode 0600). */
  stateDir: string;
  /** Sent (through a netrc file) to the controller's own cache only. */
  host: HostCredentials;
}

/** {@link SystemStore} on the real `nix`, `nix-store` and `nix-env` commands. */
export class NixStore implements SystemStore {
  constructor(private readonly options: NixStoreOptions) {}

  async isValid(storePath: string): Promise<boolean> {
    const result = await this.options.runner.run('nix-store', ['--check-validity', storePath], {
      env: this.options.env,
    });
    return result.exitCode === 0;
  }

  async fetch(cache: CacheSource, storePath: string, onLine: OnOutputLine): Promise<StepOutcome> {
    let access;
    try {
      access = resolveCacheAccess(cache.url, this.options.host);
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
    const netrcFile = access.netrc === null ? null : await this.writeNetrc(access.netrc);
    try {
      // Signatures are always checked: no --no-check-sigs, and only the controller's keys
      // are trusted. A zero negative TTL stops a path that was asked for before it was
      // pushed from staying "missing" for an hour; Nix 2.8 has no connect timeout otherwise.
      const args = [
        '--extra-experimental-features',
        'nix-command',
        'copy',
        '--from',
        access.url,
        '--option',
        'trusted-public-keys',
        cache.publicKeys.join(' '),
        '--option',
        'narinfo-cache-negative-ttl',
        '0',
        '--option',
        'connect-timeout',
        '10',
        ...(netrcFile === null ? [] : ['--option', 'netrc-file', netrcFile]),
        storePath,
      ];
      const result = await this.options.runner.run('nix', args, { env: this.options.env, onLine });
      if (result.exitCode === 0) return { ok: true };
      const reason = failure(`nix copy from ${access.url}`, result);
      if (access.netrc !== null) return { ok: false, reason };
      // Say why no credentials went along: a cache that needs the host token must be served
      // from the origin the agent connects to.
      return {
        ok: false,
        reason: `${reason} (no credentials were sent: the cache is not on the controller's origin ${controllerHttpOrigin(this.options.host.controllerUrl)})`,
      };
    } finally {
      if (netrcFile !== null) await rm(netrcFile, { force: true });
    }
  }

  async setProfile(profile: string, storePath: string, onLine: OnOutputLine): Promise<StepOutcome> {
    try {
      await mkdir(dirname(profile), { recursive: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `cannot create the profile directory: ${reason}` };
    }
    // A system that already is a generation of the profile (a rollback, or an earlier
    // release again) is switched back to, not copied on top as a new generation: the
    // generations then keep telling what ran before what, and "the generation before the
    // current one" never becomes the system that was just rolled away from.
    const generation = await generationHolding(profile, storePath);
    const args =
      generation === null
        ? ['-p', profile, '--set', storePath]
        : ['-p', profile, '--switch-generation', String(generation)];
    const result = await this.options.runner.run('nix-env', args, {
      env: this.options.env,
      onLine,
    });
    if (result.exitCode === 0) return { ok: true };
    return { ok: false, reason: failure(`nix-env ${args[2] ?? ''} on ${profile}`, result) };
  }

  async pin(storePath: string, root: string): Promise<StepOutcome> {
    try {
      await mkdir(dirname(root), { recursive: true, mode: 0o700 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `cannot create the GC roots directory: ${reason}` };
    }
    // `--indirect` is what Nix 2.8 needs for a root outside /nix/var/nix/gcroots; newer
    // versions make every such root indirect and accept the flag.
    const result = await this.options.runner.run(
      'nix-store',
      ['--realise', storePath, '--add-root', root, '--indirect'],
      { env: this.options.env },
    );
    if (result.exitCode === 0) return { ok: true };
    return { ok: false, reason: failure(`nix-store --add-root ${root}`, result) };
  }

  async unpin(root: string): Promise<void> {
    await rm(root, { force: true });
  }

  /** Writes a netrc file readable by root only; a fresh name so concurrent agents never share one. */
  private async writeNetrc(content: string): Promise<string> {
    await mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    const path = join(this.options.stateDir, `netrc-${randomUUID()}`);
    await writeFile(path, content, { mode: 0o600, flag: 'wx' });
    return path;
  }
}

function failure(what: string, result: RunResult): string {
  const lastError = result.stderrTail.filter((line) => line.trim() !== '').at(-1);
  return `${what} ${describeExit(result)}${lastError === undefined ? '' : `: ${lastError.trim()}`}`;
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
