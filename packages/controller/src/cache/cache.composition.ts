import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config.js';
import { CacheRepository } from '../storage/cache.repository.js';
import type { Db } from '../storage/database.js';
import { CacheCredentials } from './cache-credentials.js';
import { CachePublisher, type ReleasePublisher } from './cache.publisher.js';
import { BinaryCacheService } from './cache.service.js';
import { loadOrCreateSigningKey, type SigningKey } from './signing-key.js';

export interface BinaryCacheDeps {
  config: Pick<ControllerConfig, 'stateDir' | 'cache' | 'publicUrl' | 'childEnv'>;
  db: Db;
  /** The agents' short-lived cache credentials, issued over their connections. */
  credentials: CacheCredentials;
  logger: Logger;
  /** A key and a publisher made elsewhere (a test or tool without Nix); default: Nix. */
  injected?: { key: SigningKey; publisher: ReleasePublisher };
}

/** The binary cache's parts, wired: the key, the publisher for releases and the read side. */
export interface BinaryCache {
  key: SigningKey;
  publisher: ReleasePublisher;
  service: BinaryCacheService;
}

/** Where the cache lives under the state directory: keys in `cache/`, the store in `cache/store`. */
export function cacheDirs(stateDir: string): { dir: string; storeDir: string } {
  const dir = join(stateDir, 'cache');
  return { dir, storeDir: join(dir, 'store') };
}

/** The key name used when `cache.keyName` is not set: `flotilla-<machine>-1`. */
export function defaultKeyName(machine = hostname()): string {
  const safe = machine.split('.')[0]?.replace(/[^A-Za-z0-9_-]/g, '-') || 'controller';
  return `flotilla-${safe}-1`;
}

/** Loads (or on first start creates) the signing key and builds the cache's services. */
export async function createBinaryCache(deps: BinaryCacheDeps): Promise<BinaryCache> {
  const { config, db, credentials, logger } = deps;
  const { dir, storeDir } = cacheDirs(config.stateDir);
  const index = new CacheRepository(db);
  const pushTo = config.cache.pushTo ?? null;
  const service = (publicKey: string) =>
    new BinaryCacheService({
      storeDir,
      publicKey,
      ...(config.publicUrl === undefined ? {} : { publicUrl: config.publicUrl }),
      pushTo,
      credentials,
      index,
    });
  if (deps.injected) {
    const { key, publisher } = deps.injected;
    return { key, publisher, service: service(key.publicKey) };
  }
  const key = await loadOrCreateSigningKey({
    dir,
    keyName: config.cache.keyName ?? defaultKeyName(),
    env: config.childEnv,
  });
  if (key.created) logger.info({ publicKey: key.publicKey }, 'created the cache signing key');
  if (config.cache.keyName !== undefined && config.cache.keyName !== key.name) {
    logger.warn(
      { keyName: key.name, configured: config.cache.keyName },
      'the signing key keeps the name it was created with; delete it to use the new name',
    );
  }
  return {
    key,
    publisher: new CachePublisher({ storeDir, key, index, pushTo, logger, env: config.childEnv }),
    service: service(key.publicKey),
  };
}
