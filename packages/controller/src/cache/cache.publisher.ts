import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '@flotilla/protocol';
import type { Logger } from 'pino';
import { processRunner, type RunResult } from '@flotilla/runtime';
import type { CachedPath, CacheRepository } from '../storage/cache.repository.js';
import { storeHashOf } from './cache-names.js';
import { narFileOf } from './narinfo.js';
import type { SigningKey } from './signing-key.js';
import { pushTarget, withPushEnvironment } from './push-target.js';
import { redactStoreUrl, scrubStoreUrlSecrets } from './store-url.js';

/** A built release closure to make fetchable by its host. */
export interface PublishInput {
  releaseId: string;
  hostName: string;
  storePath: string;
}

/** What the release service needs from the cache: publish a closure before the release is ready. */
export interface ReleasePublisher {
  /**
   * Signs the closure, adds it to the controller's cache, records which host may read it
   * and pushes it to `cache.pushTo` when configured. Idempotent. The release row must
   * already exist (release_paths references it). Throws `cache_unavailable` on failure.
   */
  publish(input: PublishInput): Promise<void>;
}

/** NAR compression of the cache. zstd: fast to unpack, supported by Nix 2.8 and later. */
export type CacheCompression = 'zstd' | 'xz' | 'none';

export interface CachePublisherOptions {
  /** The local file binary cache (`<stateDir>/cache/store`). */
  storeDir: string;
  key: SigningKey;
  index: Pick<CacheRepository, 'recordRelease'>;
  /** Another store URL to copy closures to; may carry credentials, which are never logged. */
  pushTo?: string | null;
  compression?: CacheCompression;
  /** The complete environment of Nix processes. */
  env: Record<string, string>;
  logger: Logger;
  /** Limit for each Nix command (milliseconds). */
  timeoutMs?: number;
}

const NIX = ['--extra-experimental-features', 'nix-command'];
/** Narinfo files read at once while indexing a closure. */
const READ_CONCURRENCY = 64;

/** {@link ReleasePublisher} on the real `nix` commands and a `file://` binary cache. */
export class CachePublisher implements ReleasePublisher {
  constructor(private readonly options: CachePublisherOptions) {
    if (/[?#]/.test(options.storeDir)) {
      throw new Error(`the cache directory ${options.storeDir} must not contain '?' or '#'`);
    }
  }

  async publish(input: PublishInput): Promise<void> {
    const { key, storeDir, compression = 'zstd', pushTo, logger } = this.options;
    if (storeHashOf(input.storePath) === undefined) {
      throw new FlotillaError('invalid_store_path', `${input.storePath} is not a store path`);
    }
    const started = Date.now();
    // Signatures are added to the paths in the local store, so every copy made from it
    // (the file cache, pushTo) carries them.
    await this.nix('signing', 'nix', [
      ...NIX,
      'store',
      'sign',
      '--key-file',
      key.secretKeyFile,
      '-r',
      '--',
      input.storePath,
    ]);
    const fileCache = `file://${storeDir}?compression=${compression}`;
    await this.nix('copying to the cache', 'nix', [
      ...NIX,
      'copy',
      '--to',
      fileCache,
      '--',
      input.storePath,
    ]);
    const closure = await this.closureOf(input.storePath);
    await this.options.index.recordRelease(
      input.releaseId,
      input.hostName,
      await this.indexEntries(closure),
    );
    if (pushTo) await this.push(pushTo, input.storePath);
    logger.info(
      {
        releaseId: input.releaseId,
        host: input.hostName,
        storePath: input.storePath,
        paths: closure.length,
        ms: Date.now() - started,
      },
      'release published to the binary cache',
    );
  }

  /**
   * Copies a signed closure to `cache.pushTo`. The URL and its credentials reach Nix
   * through its environment and a netrc file, never its argument list.
   */
  private async push(pushTo: string, storePath: string): Promise<void> {
    const what = `pushing to ${redactStoreUrl(pushTo)}`;
    let target;
    try {
      target = pushTarget(pushTo);
    } catch (error) {
      throw new FlotillaError(
        'cache_unavailable',
        `binary cache: ${what} failed: ${(error as Error).message}`,
      );
    }
    await withPushEnvironment(target, this.options.env, (env) =>
      this.nix(what, 'nix', [...NIX, 'copy', '--from', 'auto', '--', storePath], pushTo, env),
    );
  }

  private async closureOf(storePath: string): Promise<string[]> {
    const result = await this.nix('listing the closure', 'nix-store', [
      '--query',
      '--requisites',
      '--',
      storePath,
    ]);
    return result.stdout.split('\n').filter((line) => line !== '');
  }

  /** The NAR file of each closure path, from the narinfo files `nix copy` just wrote. */
  private async indexEntries(closure: readonly string[]): Promise<CachedPath[]> {
    const entries: CachedPath[] = [];
    for (let start = 0; start < closure.length; start += READ_CONCURRENCY) {
      const batch = closure.slice(start, start + READ_CONCURRENCY);
      entries.push(...(await Promise.all(batch.map((path) => this.indexEntry(path)))));
    }
    return entries;
  }

  private async indexEntry(path: string): Promise<CachedPath> {
    const storeHash = storeHashOf(path);
    if (storeHash === undefined) {
      throw new FlotillaError(
        'cache_unavailable',
        `nix-store listed ${path}, which is not a store path`,
      );
    }
    const narinfoPath = join(this.options.storeDir, `${storeHash}.narinfo`);
    let narinfo: string;
    try {
      narinfo = await readFile(narinfoPath, 'utf8');
    } catch (error) {
      throw new FlotillaError(
        'cache_unavailable',
        `the cache has no narinfo for ${path}: ${(error as Error).message}`,
      );
    }
    const narFile = narFileOf(narinfo);
    if (narFile === undefined) {
      throw new FlotillaError('cache_unavailable', `${narinfoPath} has no usable URL line`);
    }
    return { storeHash, narFile };
  }

  /** Runs a Nix command; failures become `cache_unavailable` with secrets of `secretUrl` masked. */
  private async nix(
    what: string,
    command: string,
    args: string[],
    secretUrl?: string,
    env: Record<string, string> = this.options.env,
  ): Promise<RunResult> {
    const { timeoutMs = 3600_000 } = this.options;
    const result = await processRunner.run(command, args, { env, timeoutMs, captureStdout: true });
    if (result.exitCode === 0) return result;
    const reason = result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : `exit ${result.exitCode ?? 'signal'}`;
    const detail = errorTail(result.stderr);
    const message = `binary cache: ${what} failed (${reason})${detail === '' ? '' : `: ${detail}`}`;
    throw new FlotillaError(
      'cache_unavailable',
      secretUrl === undefined ? message : scrubStoreUrlSecrets(message, secretUrl),
    );
  }
}

/** The last few non-empty lines of Nix's stderr: the error, without progress noise. */
function errorTail(stderr: string): string {
  const lines = stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('copying '));
  return lines.slice(-5).join('\n').slice(-4000);
}
