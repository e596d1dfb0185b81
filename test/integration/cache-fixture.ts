import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CachePublisher,
  CacheRepository,
  cacheDirs,
  loadOrCreateSigningKey,
  openDatabase,
  type Db,
  type SigningKey,
} from '@flotilla/controller';
import { run, sandboxChildEnv, sandboxNixEnv, type CommandResult } from '@flotilla/sandbox';
import { sql } from 'kysely';
import { pino } from 'pino';

/**
 * Publishes into a running controller's state directory as its release service does:
 * same signing key (created by the controller at start), same cache directory, same
 * database (SQLite in WAL mode, so both processes may write).
 */
export class CachePublishing {
  private constructor(
    readonly db: Db,
    readonly publisher: CachePublisher,
    readonly storeDir: string,
    readonly publicKey: string,
    private readonly key: SigningKey,
  ) {}

  /** A publisher like the controller's with `cache.pushTo` set. */
  withPushTo(pushTo: string, env: Record<string, string> = {}): CachePublisher {
    return new CachePublisher({
      storeDir: this.storeDir,
      key: this.key,
      index: new CacheRepository(this.db),
      pushTo,
      env: { ...sandboxChildEnv(), ...env },
      logger: pino({ level: 'silent' }),
    });
  }

  static async open(stateDir: string): Promise<CachePublishing> {
    const { dir, storeDir } = cacheDirs(stateDir);
    const key = await loadOrCreateSigningKey({
      dir,
      keyName: 'unused-the-key-exists',
      env: sandboxChildEnv(),
    });
    if (key.created) throw new Error('the controller should have created the signing key');
    const { db } = await openDatabase({ url: join(stateDir, 'flotilla.db') });
    const publisher = new CachePublisher({
      storeDir,
      key,
      index: new CacheRepository(db),
      env: sandboxChildEnv(),
      logger: pino({ level: 'silent' }),
    });
    return new CachePublishing(db, publisher, storeDir, key.publicKey, key);
  }

  /** Records a release of `storePath` for a host (with the rows it refers to) and publishes it. */
  async publishRelease(hostName: string, storePath: string): Promise<string> {
    const suffix = randomBytes(4).toString('hex');
    const now = new Date().toISOString();
    const repo = `repo-${suffix}`;
    const revision = `rev-${suffix}`;
    const build = `b-${suffix}`;
    const release = `r-${suffix}`;
    // Raw SQL naming only the required columns, so columns other migrations add later
    // (nullable or defaulted) do not break this test helper.
    await sql`insert into repositories (id, url, branch, flake_dir, auth_kind, poll_interval_seconds, allow_force_push, source, created_at, updated_at)
      values (${repo}, ${'/dev/null'}, ${'main'}, ${''}, ${'none'}, ${60}, ${0}, ${'api'}, ${now}, ${now})`.execute(
      this.db,
    );
    await sql`insert into revisions (id, repository_id, sha, ref, kind, message, author, committed_at, discovered_at, status)
      values (${revision}, ${repo}, ${suffix}, ${'refs/heads/main'}, ${'branch'}, ${'test'}, ${'test'}, ${now}, ${now}, ${'evaluated'})`.execute(
      this.db,
    );
    await sql`insert into builds (id, revision_id, host_name, drv_path, kind, status, created_at, out_path)
      values (${build}, ${revision}, ${hostName}, ${'/nix/store/x.drv'}, ${'release'}, ${'succeeded'}, ${now}, ${storePath})`.execute(
      this.db,
    );
    await sql`insert into releases (id, host_name, revision_id, build_id, drv_path, store_path, status, created_at)
      values (${release}, ${hostName}, ${revision}, ${build}, ${'/nix/store/x.drv'}, ${storePath}, ${'publishing'}, ${now})`.execute(
      this.db,
    );
    await this.publisher.publish({ releaseId: release, hostName, storePath });
    return release;
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}

export interface CopyOptions {
  cacheUrl: string;
  publicKey: string;
  /** Host token written to a netrc file for the cache's host; none: no credentials. */
  token?: string;
  storePath: string;
  /** Root of the empty store to copy into (`<root>/nix/store`). */
  root: string;
  /** Where the netrc and Nix's own narinfo cache go, so runs never share state. */
  scratch: string;
}

/** `nix copy --from <cache> --to <root>`: a host with an empty store fetching a release. */
export async function copyFromCache(options: CopyOptions): Promise<CommandResult> {
  const netrc = join(options.scratch, `netrc-${randomBytes(4).toString('hex')}`);
  const host = new URL(options.cacheUrl).hostname;
  await writeFile(
    netrc,
    options.token === undefined ? '' : `machine ${host} login h password ${options.token}\n`,
    { mode: 0o600 },
  );
  const args = [
    'copy',
    '--from',
    options.cacheUrl,
    '--to',
    options.root,
    '--option',
    'trusted-public-keys',
    options.publicKey,
    '--option',
    'narinfo-cache-negative-ttl',
    '0',
    '--option',
    'narinfo-cache-positive-ttl',
    '0',
    '--option',
    'netrc-file',
    netrc,
    options.storePath,
  ];
  return run('nix', args, { ...sandboxNixEnv(), XDG_CACHE_HOME: join(options.scratch, 'xdg') });
}
