/**
 * `npm run bench:programs -- [--runs N] [--settle S] [--log]`
 *
 * What the bundled programs (`npm run build` → dist/, scripts/bundle.mjs) cost to run, each
 * against a baseline measured in the same run:
 *
 * - controller start: from spawning the controller on an existing state directory (SQLite)
 *   to its first `200` from `/healthz`, bundled against the compiled packages' program
 *   (packages/controller/dist/main.js); wall time and the CPU time it used until then;
 * - idle agent memory: the resident set of an enrolled, connected agent after `--settle`
 *   seconds of idling, bundled (run with its shipped Node.js flags, dist/agent/node-flags,
 *   as `startAgent` does) and compiled, against a bare `node` that only waits;
 * - deployment overhead: a sandboxed host switched between two built systems through the
 *   API (`POST /api/v1/deployments`, a human's deploy, which counts as the approval) until
 *   the controller calls it `succeeded`, against the activation's own runtime — the same
 *   systems' `switch-to-configuration test` and `boot` run directly, as the agent runs
 *   them. The difference is Flotilla's own share: fetch and signature check, profile,
 *   runner, health check, confirmation, verification — measured also in process starts: a
 *   bare `node -e 0` and a `nix-store --check-validity`, timed in the same runs. `--log` prints
 *   each deployment's log with the time of each line and the ms since the line before (on
 *   stderr), and the load average is printed with the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FINAL_DEPLOYMENT_STATUSES, type Deployment } from '@flotilla/protocol';
import {
  buildHost,
  installInitialSystem,
  JsonClient,
  sandboxNixEnv,
  signStorePath,
  startAgent,
  startController,
  writeSandboxFlake,
  type AgentHandle,
  type ControllerHandle,
} from '@flotilla/sandbox';
import { cpuTicks, rssMiB } from './simulated-agents.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    settle: { type: 'string', default: '10' },
    log: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const SETTLE_SECONDS = Number(values.settle);
if (!(RUNS > 0) || !(SETTLE_SECONDS > 0)) {
  console.error('usage: bench-programs [--runs N] [--settle S] [--log]');
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROGRAMS = {
  controller: {
    compiled: join(ROOT, 'packages/controller/dist/main.js'),
    bundled: join(ROOT, 'dist/controller/flotilla-controller.mjs'),
  },
  agent: {
    compiled: join(ROOT, 'packages/agent/dist/main.js'),
    bundled: join(ROOT, 'dist/agent/flotilla-agent.mjs'),
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** One start of a controller program: ms to the first healthy `/healthz`, and CPU ms until then. */
async function timeControllerStart(
  program: string,
  stateDir: string,
): Promise<{ ms: number; cpuMs: number }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  // The bundle's code cache beside the state (as systemd's CacheDirectory on a host): the
  // folder exists, the first start fills it.
  const cacheHome = `${stateDir}-cache`;
  mkdirSync(cacheHome, { recursive: true });
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [program, '--state-dir', stateDir, '--listen', `127.0.0.1:${port}`],
    {
      stdio: 'ignore',
      env: { ...sandboxNixEnv(), FLOTILLA_LOG_LEVEL: 'warn', XDG_CACHE_HOME: cacheHome },
    },
  );
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${program} exited with ${child.exitCode}`);
      if (performance.now() - started > 60_000) throw new Error(`${program} did not start`);
      const healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) break;
      await delay(2);
    }
    const ms = performance.now() - started;
    return { ms, cpuMs: (await cpuTicks(child.pid ?? 0)) * 10 };
  } finally {
    await stopChild(child);
  }
}

async function controllerStart(dir: string) {
  const results: Record<string, { ms: number[]; cpuMs: number[] }> = {};
  for (const [name, program] of Object.entries(PROGRAMS.controller)) {
    const stateDir = join(dir, `controller-${name}`);
    // The first start makes keys and database (and the bundle's code cache).
    await timeControllerStart(program, stateDir);
    results[name] = { ms: [], cpuMs: [] };
  }
  // Alternating, so both see the same machine.
  for (let run = 0; run < RUNS; run++) {
    for (const [name, program] of Object.entries(PROGRAMS.controller)) {
      const { ms, cpuMs } = await timeControllerStart(program, join(dir, `controller-${name}`));
      results[name]?.ms.push(ms);
      results[name]?.cpuMs.push(cpuMs);
    }
  }
  const figure = (name: string) => ({
    medianMs: Math.round(median(results[name]?.ms ?? [])),
    medianCpuMs: Math.round(median(results[name]?.cpuMs ?? [])),
  });
  const compiled = figure('compiled');
  const bundled = figure('bundled');
  return {
    compiled,
    bundled,
    ratio: Number((bundled.medianMs / compiled.medianMs).toFixed(2)),
  };
}

/** The resident set of a bare node process that only waits (the floor any agent pays). */
async function bareNodeRssMiB(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {
    stdio: 'ignore',
  });
  try {
    await delay(SETTLE_SECONDS * 1000);
    return await rssMiB(child.pid ?? 0);
  } finally {
    await stopChild(child);
  }
}

async function waitOnline(api: JsonClient, host: string): Promise<void> {
  await JsonClient.until(
    async () => {
      const response = await api.get<{ status: string; facts: unknown }>(`/api/v1/hosts/${host}`);
      return response.body.status === 'online' && response.body.facts !== null ? true : undefined;
    },
    `${host} online`,
    60_000,
  );
}

async function addAgent(
  fleet: { dir: string; controller: ControllerHandle; api: JsonClient; cacheKey: string },
  host: string,
  program: string,
  initialSystem: string,
): Promise<AgentHandle> {
  const created = await fleet.api.post<{ enrollment: { token: string } }>('/api/v1/hosts', {
    name: host,
    mode: 'managed',
  });
  if (created.status !== 201) throw new Error(`registering ${host}: ${created.status}`);
  const root = join(fleet.dir, 'hosts', host);
  await installInitialSystem(root, initialSystem);
  const agent = await startAgent({
    host,
    controllerUrl: fleet.controller.url,
    enrollmentToken: created.body.enrollment.token,
    trustedPublicKeys: [fleet.cacheKey],
    root,
    program,
  });
  await waitOnline(fleet.api, host);
  return agent;
}

/** One deployment through the API: ms from the request to `succeeded`. */
async function timeDeployment(api: JsonClient, host: string, storePath: string): Promise<number> {
  const started = performance.now();
  const requestedAt = Date.now();
  const created = await api.post<{ deployment: Deployment }>('/api/v1/deployments', {
    host,
    storePath,
  });
  if (created.status !== 201) throw new Error(`deploy: ${JSON.stringify(created.body)}`);
  const id = created.body.deployment.id;
  for (;;) {
    const { body } = await api.get<Deployment>(`/api/v1/deployments/${id}`);
    if (FINAL_DEPLOYMENT_STATUSES.has(body.status)) {
      // Taken before the log is fetched, which is not part of the deployment.
      const ms = performance.now() - started;
      const seenAt = Date.now();
      if (body.status !== 'succeeded') throw new Error(`deployment ${id} ${body.status}`);
      if (values.log === true) {
        // Where the time went: the deployment's log, each line with its time and the ms
        // since the line before (the first: since the request).
        const { log } = (
          await api.get<{ log: { at: string; line: string }[] }>(`/api/v1/deployments/${id}`)
        ).body;
        let last = requestedAt;
        for (const line of log) {
          const at = Date.parse(line.at);
          const step = `+${String(at - last).padStart(4)} ms`;
          console.error(line.at, step, line.line.slice(0, 140));
          last = at;
        }
        console.error(`${' '.repeat(24)} +${String(seenAt - last).padStart(4)} ms seen succeeded`);
      }
      return ms;
    }
    if (performance.now() - started > 120_000) throw new Error(`deployment ${id} hangs`);
    await delay(5);
  }
}

/** Wall time of one run of `command` to its exit (the price of a process start here and now). */
async function timeProcess(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: 'ignore', env: sandboxNixEnv() });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${command} exited ${String(code)}`);
  return performance.now() - started;
}

/** `switch-to-configuration test`, then `boot`, run directly as the agent runs them: ms. */
async function timeActivation(storePath: string, scratch: string): Promise<number> {
  const started = performance.now();
  for (const action of ['test', 'boot']) {
    const child = spawn(join(storePath, 'bin', 'switch-to-configuration'), [action], {
      stdio: 'ignore',
      env: {
        ...sandboxNixEnv(),
        NIXOS_INSTALL_BOOTLOADER: '0',
        FLOTILLA_CURRENT_SYSTEM_LINK: join(scratch, 'run', 'current-system'),
        FLOTILLA_PROFILE: join(scratch, 'profiles', 'system'),
      },
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`switch-to-configuration ${action} exited ${String(code)}`);
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-programs-'));
  let controller: ControllerHandle | undefined;
  const agents: AgentHandle[] = [];
  try {
    const start = await controllerStart(dir);

    controller = await startController({ stateDir: join(dir, 'controller') });
    const api = new JsonClient(controller.url, controller.adminToken);
    const cache = await api.get<{ publicKey: string }>('/api/v1/cache');
    const fleet = { dir, controller, api, cacheKey: cache.body.publicKey };
    const flake = join(dir, 'flake');
    const systems: string[] = [];
    for (const version of ['1', '2']) {
      await writeSandboxFlake(flake, [{ name: 'bench', version }]);
      const storePath = await buildHost(`path:${flake}`, 'bench');
      await signStorePath(storePath, join(controller.stateDir, 'cache', 'signing-key.sec'));
      systems.push(storePath);
    }
    const [first = '', second = ''] = systems;
    agents.push(await addAgent(fleet, 'bundled', PROGRAMS.agent.bundled, first));
    agents.push(await addAgent(fleet, 'compiled', PROGRAMS.agent.compiled, first));

    const [bare, bundledRss, compiledRss] = await Promise.all([
      bareNodeRssMiB(),
      delay(SETTLE_SECONDS * 1000).then(() => rssMiB(agents[0]?.process.pid ?? 0)),
      delay(SETTLE_SECONDS * 1000).then(() => rssMiB(agents[1]?.process.pid ?? 0)),
    ]);
    const memory = {
      bareNodeMiB: Math.round(bare),
      bundledAgentMiB: Math.round(bundledRss),
      compiledAgentMiB: Math.round(compiledRss),
      bundledOverBare: Number((bundledRss / bare).toFixed(2)),
    };

    const scratch = join(dir, 'scratch');
    await mkdir(scratch, { recursive: true });
    const deployMs: number[] = [];
    const activationMs: number[] = [];
    const nodeStartMs: number[] = [];
    const nixStartMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const target = run % 2 === 0 ? second : first;
      deployMs.push(await timeDeployment(api, 'bundled', target));
      activationMs.push(await timeActivation(target, scratch));
      nodeStartMs.push(await timeProcess(process.execPath, ['-e', '0']));
      nixStartMs.push(await timeProcess('nix-store', ['--check-validity', target]));
    }
    const deploy = {
      // The machine may be shared: its load during the deployments, for the record.
      loadAverage: loadavg().map((load) => Number(load.toFixed(2))),
      approvalToSucceededMs: Math.round(median(deployMs)),
      // Each run: the first deploys a system new to the host, the later ones switch between
      // two generations of its profile.
      approvalToSucceededEachMs: deployMs.map(Math.round),
      activationOwnMs: Math.round(median(activationMs)),
      flotillaOverheadMs: Math.round(median(deployMs) - median(activationMs)),
      ratio: Number((median(deployMs) / median(activationMs)).toFixed(2)),
      // What one process start costs on this machine now: the overhead is mostly these.
      bareNodeStartMs: Math.round(median(nodeStartMs)),
      nixStoreStartMs: Math.round(median(nixStartMs)),
    };
    console.log(
      JSON.stringify({ runs: RUNS, controllerStart: start, idleAgent: memory, deploy }, null, 2),
    );
  } finally {
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
