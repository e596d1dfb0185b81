import { execFile } from 'node:child_process';
import { constants, rmSync } from 'node:fs';
import { access, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from './process.js';

/** Where Debian's `postgresql-<version>` packages put their server binaries. */
const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';

/** The superuser `initdb` creates; connections from loopback are trusted (a throwaway cluster). */
const SUPERUSER = 'postgres';

export interface StartPostgresOptions {
  /** Directory with `initdb` and `postgres`; default: the newest /usr/lib/postgresql/<ver>/bin. */
  binDir?: string;
  /** Unprivileged user that runs the cluster when this process is root (initdb refuses root). */
  runAs?: string;
  /** Deadline for initdb and for the server to accept connections, each. */
  timeoutMs?: number;
}

/** A PostgreSQL cluster of its own in a temp dir, for one test run. */
export interface PostgresServer {
  /** Superuser URL of the `postgres` maintenance database, on 127.0.0.1. */
  readonly url: string;
  /** e.g. `15`. */
  readonly version: string;
  /** The temp dir: data directory and unix socket, removed by {@link PostgresServer.stop}. */
  readonly dir: string;
  /** Fast shutdown (clients are disconnected), then the temp dir is removed. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when PostgreSQL is not installed; says what to install. */
export class PostgresNotInstalledError extends Error {
  constructor(where: string) {
    super(
      `PostgreSQL server binaries not found in ${where}: run \`npm test\` (as root it installs ` +
        'them) or install them, e.g. `apt-get install postgresql` on Debian/Ubuntu',
    );
  }
}

/**
 * Starts a throwaway PostgreSQL server: `initdb` into a fresh temp dir, then `postgres` on
 * 127.0.0.1 with a free port and its socket in the temp dir, durability off (fsync,
 * synchronous commit, full page writes: nothing here must survive a crash). As root, both run
 * as `runAs` (Debian's `postgres` user) through `setpriv`, with the temp dir owned by it.
 * Resolves once the server reports it accepts connections; on any failure nothing is left
 * behind. The C locale makes text sort bytewise, as SQLite's default collation does.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { binDir, version } = await findBinaries(options.binDir);
  const prefix = await unprivilegedPrefix(options.runAs ?? SUPERUSER);
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-pg-'));
  try {
    if (prefix.owner) await chown(dir, prefix.owner.uid, prefix.owner.gid);
    const data = join(dir, 'data');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
    await runToEnd(
      [
        ...prefix.args,
        join(binDir, 'initdb'),
        '--pgdata',
        data,
        '--username',
        SUPERUSER,
        '--auth',
        'trust',
        '--encoding',
        'UTF8',
        '--no-locale',
        '--no-sync',
      ],
      { cwd: dir, env, timeoutMs },
    );
    // A free port can be taken between probing and binding: try again with another one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const [command = 'postgres', ...args] = [
        ...prefix.args,
        join(binDir, 'postgres'),
        '-D',
        data,
        ...serverSettings({ port, socketDir: dir }),
      ];
      const server = new ManagedProcess(command, args, { cwd: dir, env, label: 'postgres' });
      const outcome = await Promise.race([
        server
          .waitForLine(/database system is ready to accept connections/, timeoutMs)
          .then(() => 'ready' as const),
        server.exited.then(() => 'exited' as const),
      ]).catch((error: unknown) => error as Error);
      if (outcome === 'ready') {
        return runningServer(
          server,
          dir,
          `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
          version,
        );
      }
      await stopServer(server);
      const output = server.lines.join('\n');
      if (outcome === 'exited' && /could not bind|already in use/i.test(output) && attempt < 5) {
        continue;
      }
      const reason = outcome === 'exited' ? 'exited before accepting connections' : outcome.message;
      throw new Error(`PostgreSQL ${version} did not start: ${reason}\n${output}`);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function serverSettings(where: { port: number; socketDir: string }): string[] {
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port: where.port,
    unix_socket_directories: where.socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    // Test files run in parallel, each with pools of a few connections.
    max_connections: 200,
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

function runningServer(
  server: ManagedProcess,
  dir: string,
  url: string,
  version: string,
): PostgresServer {
  // Last resort when this process exits without calling stop() (an uncaught error): no
  // asynchronous work is possible any more. SIGQUIT is PostgreSQL's immediate shutdown,
  // which still releases its shared memory (SIGKILL would leave a segment behind).
  const onExit = () => {
    if (server.pid !== undefined && server.running) {
      try {
        process.kill(server.pid, 'SIGQUIT');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  return {
    url,
    version,
    dir,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onExit);
        await stopServer(server);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * SIGINT to the postmaster is PostgreSQL's fast shutdown: it disconnects clients instead of
 * waiting for them (SIGTERM would wait for every leaked pool); SIGKILL after a grace period.
 */
async function stopServer(server: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (server.running && server.pid !== undefined) {
    try {
      process.kill(server.pid, 'SIGINT');
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => server.signal('SIGKILL'), graceMs);
    await server.exited;
    clearTimeout(timer);
  }
}

/**
 * The server binaries: `binDir` when given, else the newest of Debian's
 * /usr/lib/postgresql/<version>/bin, else the first directory on PATH holding both.
 */
async function findBinaries(binDir?: string): Promise<{ binDir: string; version: string }> {
  const versions = await readdir(DEBIAN_POSTGRES_ROOT).catch(() => [] as string[]);
  const debian = versions
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(DEBIAN_POSTGRES_ROOT, v, 'bin'));
  const onPath = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '');
  const candidates = binDir !== undefined ? [binDir] : [...debian, ...onPath];
  for (const candidate of candidates) {
    try {
      await access(join(candidate, 'initdb'), constants.X_OK);
      await access(join(candidate, 'postgres'), constants.X_OK);
    } catch {
      continue; // e.g. only the client of this version is installed
    }
    const { stdout } = await runToEnd([join(candidate, 'postgres'), '--version'], {
      timeoutMs: 10_000,
    });
    return { binDir: candidate, version: /\d+/.exec(stdout)?.[0] ?? 'unknown' };
  }
  throw new PostgresNotInstalledError(binDir ?? `${DEBIAN_POSTGRES_ROOT}/<version>/bin or PATH`);
}

/** As root: `setpriv` into `user` and the ids to give it the temp dir; otherwise nothing. */
async function unprivilegedPrefix(
  user: string,
): Promise<{ args: string[]; owner?: { uid: number; gid: number } }> {
  if (process.getuid?.() !== 0) return { args: [] };
  const id = async (flag: string) => {
    const { stdout } = await runToEnd(['id', flag, user], { timeoutMs: 10_000 }).catch(() => {
      throw new Error(
        `PostgreSQL refuses to run as root and there is no user "${user}" to run it as ` +
          '(Debian\'s postgresql package creates "postgres")',
      );
    });
    return Number(stdout.trim());
  };
  const uid = await id('-u');
  const gid = await id('-g');
  return {
    args: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'],
    owner: { uid, gid },
  };
}

/** Runs a command to its end; rejects with its output when it fails or overruns. */
function runToEnd(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('empty command');
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${argv.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** A port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
