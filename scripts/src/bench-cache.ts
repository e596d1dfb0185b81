/**
 * `npm run bench:cache -- [--mb 200] [--nars 10] [--clients 8] [--rounds 3]`
 *
 * Builds NARs of random bytes (about --mb MB in --nars store paths), publishes them through
 * a real controller's cache as one release of a host, then has --clients concurrent curl
 * processes each download every NAR (one keep-alive connection per client, as Nix does)
 * from (a) the controller, with a cache credential the host's (simulated) agent asked for
 * over its connection, and (b) an nginx of our own serving the
 * same cache directory without auth. After one untimed round each, rounds alternate between
 * the two; the median of each is compared, and the servers' CPU time per GB is reported.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CachePublisher,
  CacheRepository,
  cacheDirs,
  loadOrCreateSigningKey,
  openDatabase,
  type Db,
} from '@flotilla/controller';
import type { CreateHostResponse } from '@flotilla/protocol';
import {
  buildRandomBlob,
  enrollIdentity,
  JsonClient,
  newAgentIdentity,
  ProtocolAgent,
  sandboxChildEnv,
  startController,
} from '@flotilla/sandbox';
import { sql } from 'kysely';
import { pino } from 'pino';
import { ensureNginx, startNginx, type StaticServer } from './bench-cache.nginx.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    nars: { type: 'string', default: '10' },
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
  },
});
const TOTAL_MB = Number(values.mb);
const NARS = Number(values.nars);
const CLIENTS = Number(values.clients);
const ROUNDS = Number(values.rounds);
if (!(TOTAL_MB > 0) || !(NARS > 0) || !(CLIENTS > 0) || !(ROUNDS > 0)) {
  console.error('usage: bench-cache [--mb MB] [--nars N] [--clients C] [--rounds R]');
  process.exit(2);
}

/** Inserts the rows a release refers to; the benchmark has no git pipeline. */
async function insertRelease(db: Db, hostName: string, storePath: string): Promise<string> {
  const id = randomBytes(4).toString('hex');
  const now = new Date().toISOString();
  await sql`insert into repositories (id, url, branch, flake_dir, auth_kind, poll_interval_seconds, allow_force_push, source, created_at, updated_at)
    values (${id}, ${'/dev/null'}, ${'main'}, ${''}, ${'none'}, ${60}, ${0}, ${'api'}, ${now}, ${now})`.execute(
    db,
  );
  await sql`insert into revisions (id, repository_id, sha, ref, kind, message, author, committed_at, discovered_at, status)
    values (${id}, ${id}, ${id}, ${'refs/heads/main'}, ${'branch'}, ${'bench'}, ${'bench'}, ${now}, ${now}, ${'evaluated'})`.execute(
    db,
  );
  await sql`insert into builds (id, revision_id, host_name, drv_path, kind, status, created_at, out_path)
    values (${id}, ${id}, ${hostName}, ${'/nix/store/x.drv'}, ${'release'}, ${'succeeded'}, ${now}, ${storePath})`.execute(
    db,
  );
  await sql`insert into releases (id, host_name, revision_id, build_id, drv_path, store_path, status, created_at)
    values (${id}, ${hostName}, ${id}, ${id}, ${'/nix/store/x.drv'}, ${storePath}, ${'publishing'}, ${now})`.execute(
    db,
  );
  return id;
}

interface ClientResult {
  bytes: number;
  failures: string[];
}

/** One client: curl fetching every URL in turn over one connection, bodies discarded. */
function curlClient(urls: readonly string[], headers: readonly string[]): Promise<ClientResult> {
  const args = ['-s', '-w', '%{http_code} %{size_download}\\n', ...headers];
  for (const url of urls) args.push('-o', '/dev/null', url);
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      let bytes = 0;
      const failures: string[] = [];
      for (const line of out.trim().split('\n')) {
        const [status, size] = line.split(' ');
        if (status !== '200') failures.push(line);
        bytes += Number(size);
      }
      resolve({ bytes, failures });
    });
  });
}

/** All clients at once; each starts at another NAR so they do not move in lockstep. */
async function round(urls: readonly string[], headers: readonly string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => {
      const offset = Math.floor((i * urls.length) / CLIENTS);
      return curlClient([...urls.slice(offset), ...urls.slice(0, offset)], headers);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const failures = results.flatMap((r) => r.failures);
  if (failures.length > 0) throw new Error(`downloads failed: ${failures.slice(0, 5).join('; ')}`);
  return results.reduce((sum, r) => sum + r.bytes, 0) / 1e6 / seconds;
}

/** CPU seconds (user + system) used so far by a process and, with `children`, its children. */
async function cpuSeconds(pid: number | undefined, children = false): Promise<number> {
  if (pid === undefined) return NaN;
  const ticks = async (p: string) => {
    const fields = (await readFile(`/proc/${p}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  };
  let total = await ticks(String(pid));
  if (children) {
    const kids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/);
    for (const kid of kids.filter(Boolean)) total += await ticks(kid);
  }
  return total / 100; // clock ticks (USER_HZ = 100 on Linux)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  ensureNginx();
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-cache-'));
  const controller = await startController({
    stateDir: join(dir, 'state'),
    env: { FLOTILLA_LOG_LEVEL: 'info' },
  });
  const api = new JsonClient(controller.url, controller.adminToken);
  const { db } = await openDatabase({ url: join(controller.stateDir, 'flotilla.db') });
  let nginx: StaticServer | undefined;
  let agent: ProtocolAgent | undefined;
  try {
    const host = await api.post<CreateHostResponse>('/api/v1/hosts', { name: 'bench' });
    if (host.status !== 201) throw new Error(`registering the host: ${JSON.stringify(host.body)}`);
    const identity = newAgentIdentity('bench');
    const enrolled = await enrollIdentity(controller.url, identity, host.body.enrollment.token);
    if (enrolled.status !== 201) throw new Error(`enrolling: ${JSON.stringify(enrolled.body)}`);
    agent = await ProtocolAgent.connectAs(controller.url, identity);
    const credential = await agent.cacheCredential();
    const narBytes = Math.round((TOTAL_MB * 1e6) / NARS);
    console.log(`building ${NARS} store paths of ${(narBytes / 1e6).toFixed(1)} MB random bytes…`);
    const paths: string[] = [];
    for (let i = 0; i < NARS; i++) {
      paths.push(await buildRandomBlob(`flotilla-bench-nar-${i}-${narBytes}`, narBytes));
    }

    console.log('publishing them through the controller cache (sign, copy, index)…');
    const { dir: keyDir, storeDir } = cacheDirs(controller.stateDir);
    const publisher = new CachePublisher({
      storeDir,
      key: await loadOrCreateSigningKey({ dir: keyDir, keyName: 'exists', env: sandboxChildEnv() }),
      index: new CacheRepository(db),
      env: sandboxChildEnv(),
      logger: pino({ level: 'silent' }),
    });
    const releaseId = await insertRelease(db, 'bench', paths[0] ?? '');
    const publishStart = Date.now();
    for (const storePath of paths)
      await publisher.publish({ releaseId, hostName: 'bench', storePath });
    console.log(`  published in ${((Date.now() - publishStart) / 1000).toFixed(1)} s`);

    const narFiles = await readdir(join(storeDir, 'nar'));
    let total = 0;
    for (const file of narFiles) {
      total += (await stat(join(storeDir, 'nar', file))).size;
      await readFile(join(storeDir, 'nar', file)); // page cache: both servers read from memory
    }
    console.log(`${narFiles.length} NAR files, ${(total / 1e6).toFixed(0)} MB; ${CLIENTS} clients`);

    const server = await startNginx(storeDir, join(dir, 'nginx'));
    nginx = server;
    const controllerUrls = narFiles.map((f) => `${controller.url}/cache/nar/${f}`);
    const nginxUrls = narFiles.map((f) => `${server.url}/nar/${f}`);
    const auth = ['-H', `Authorization: Bearer ${credential}`];
    const rates = { controller: [] as number[], nginx: [] as number[] };
    const cpu = { controller: 0, nginx: 0 };
    const servedGB = (ROUNDS * CLIENTS * total) / 1e9;
    // One untimed round each first: JIT warm-up and connection setup are not what is compared.
    await round(controllerUrls, auth);
    await round(nginxUrls, []);
    for (let r = 1; r <= ROUNDS; r++) {
      let before = await cpuSeconds(controller.process.pid);
      rates.controller.push(await round(controllerUrls, auth));
      cpu.controller += (await cpuSeconds(controller.process.pid)) - before;
      before = await cpuSeconds(server.pid, true);
      rates.nginx.push(await round(nginxUrls, []));
      cpu.nginx += (await cpuSeconds(server.pid, true)) - before;
      console.log(
        `  round ${r}: controller ${rates.controller.at(-1)?.toFixed(0)} MB/s, nginx ${rates.nginx.at(-1)?.toFixed(0)} MB/s`,
      );
    }
    const a = median(rates.controller);
    const b = median(rates.nginx);
    const row = (name: string, mbps: number, all: number[], seconds: number) =>
      `| ${name} | ${mbps.toFixed(0)} | ${all.map((x) => x.toFixed(0)).join(', ')} | ${(seconds / servedGB).toFixed(2)} |`;
    console.log('\n| server | MB/s (median) | each round | server CPU s per GB |');
    console.log('| --- | ---: | --- | ---: |');
    console.log(
      row(
        'controller /cache (cache credential, authorized per request)',
        a,
        rates.controller,
        cpu.controller,
      ),
    );
    console.log(row('nginx (static files, sendfile, no auth)', b, rates.nginx, cpu.nginx));
    console.log(`\nratio controller ÷ nginx: ${(a / b).toFixed(2)} (target ≥ 0.8)`);
  } finally {
    agent?.socket.terminate();
    await nginx?.stop();
    await db.destroy();
    await controller.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
