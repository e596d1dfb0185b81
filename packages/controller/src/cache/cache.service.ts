import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CACHE_PATH, FlotillaError, type CacheInfo, type CacheSource } from '@flotilla/protocol';
import type { CacheRepository } from '../storage/cache.repository.js';
import { tokenFromAuthorization } from './cache-auth.js';
import type { CacheCredentials } from './cache-credentials.js';
import { redactStoreUrl } from './store-url.js';

export interface BinaryCacheServiceOptions {
  /** The local file binary cache (`<stateDir>/cache/store`). */
  storeDir: string;
  publicKey: string;
  /** `config.publicUrl`: when set, agents are always sent there. */
  publicUrl?: string;
  pushTo?: string | null;
  /** The short-lived credentials agents ask for over their connection. */
  credentials: Pick<CacheCredentials, 'hostOf'>;
  index: Pick<CacheRepository, 'hostMayReadPath' | 'hostMayReadNar'>;
}

/** An open NAR file, ready to stream; the caller owns (and must close or stream) the handle. */
export interface OpenNar {
  handle: FileHandle;
  size: number;
}

/**
 * The controller's binary cache as hosts see it. Every read is authenticated with a
 * short-lived credential issued to the host's agent and authorized against the closures of
 * that host's releases; anything else is "not found", so a host cannot learn what other
 * hosts run.
 */
export class BinaryCacheService {
  constructor(private readonly options: BinaryCacheServiceOptions) {}

  /** What admins and the CLI show (the push URL without its credentials). */
  info(): CacheInfo {
    const { publicKey, pushTo } = this.options;
    return { publicKey, path: CACHE_PATH, pushTo: pushTo ? redactStoreUrl(pushTo) : null };
  }

  /**
   * The cache a deploy request points the agent to: under `publicUrl` when configured,
   * else under the base URL the agent itself connected to; null when neither is known.
   */
  cacheSourceFor(agentBaseUrl: string | null): CacheSource | null {
    const base = this.options.publicUrl?.replace(/\/+$/, '') ?? agentBaseUrl;
    if (base === null || base === undefined) return null;
    return { url: `${base}${CACHE_PATH}` };
  }

  /**
   * The host whose valid cache credential is in the `Authorization` header; `unauthorized`
   * otherwise (unknown, expired, or its host revoked).
   */
  authenticate(authorization: string | undefined): string {
    const token = tokenFromAuthorization(authorization);
    const host = token === undefined ? undefined : this.options.credentials.hostOf(token);
    if (host === undefined) {
      throw new FlotillaError('unauthorized', 'missing, unknown or expired cache credential');
    }
    return host;
  }

  /** The narinfo of a path in one of the host's releases. */
  async narinfo(host: string, storeHash: string): Promise<string> {
    if (!(await this.options.index.hostMayReadPath(host, storeHash))) throw notFound();
    try {
      return await readFile(join(this.options.storeDir, `${storeHash}.narinfo`), 'utf8');
    } catch (error) {
      throw asNotFound(error);
    }
  }

  /**
   * Opens a NAR holding a path of one of the host's releases. The size comes from the open
   * file, so Content-Length matches what is streamed even if the file is replaced meanwhile
   * (`nix copy` writes files by renaming a new one into place).
   */
  async openNar(host: string, narFile: string): Promise<OpenNar> {
    if (!(await this.options.index.hostMayReadNar(host, narFile))) throw notFound();
    let handle: FileHandle;
    try {
      handle = await open(join(this.options.storeDir, 'nar', narFile), 'r');
    } catch (error) {
      throw asNotFound(error);
    }
    try {
      return { handle, size: (await handle.stat()).size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

function notFound(): FlotillaError {
  return new FlotillaError('not_found', 'no such file in the binary cache');
}

function asNotFound(error: unknown): unknown {
  return (error as NodeJS.ErrnoException).code === 'ENOENT' ? notFound() : error;
}
