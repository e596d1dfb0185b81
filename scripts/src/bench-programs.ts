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
 * - deployment overhead, in the three ways a deployment really starts, each from the request
 *   that approves it to the controller calling it `succeeded`, on sandboxed hosts run by the
 *   bundled agent, every run taking the three in turn:
 *   1. a new release deployed by a human: `POST /api/v1/deployments` (a human's deploy,
 *      which counts as the approval) of a system the host never ran (one built for each
 *      run), nothing prepared before;
 *   2. a new release approved after its plan was prepared (the everyday path): a commit
 *      pushed to a bare repository standing in for GitHub and `POST /api/v1/repository/sync`
 *      make a release through the controller's pipeline; the host's policy (`manual`) makes
 *      its deployment wait, its agent prepares the plan (prefetch on), and once
 *      `GET /api/v1/approvals` shows the plan `ready`, `POST /api/v1/approvals` approves it
 *      (the timed span starts there; push → plan ready is reported beside it);
 *   3. back to an existing generation: a human's deploy of the system the host started
 *      with, a generation its profile already has (a redeploy or a rollback).
 *   Each against the activation's own runtime: the same system's `switch-to-configuration
 *   test` and `boot` run directly, as the agent runs them, right after that deployment. The
 *   difference (median less median) is Flotilla's own share: fetch and signature check,
 *   profile, runner, health check, confirmation, verification — measured also in process
 *   starts: a bare `node -e 0` and a `nix-store --check-validity`, timed in the same runs.
 *   The hosts share the machine's Nix store, so no case downloads anything: the new systems
 *   are pinned and checked where they already are. `--log` prints each deployment's log
 *   with the time of each line and the ms since the line before (lines written before the
 *   approving request, while a deployment waited, are marked `before`), on stderr, where
 *   the progress goes too; the load average is printed with the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  FINAL_DEPLOYMENT_STATUSES,
  type DecisionResult,
  type Deployment,
  type PendingApprovalList,
  type ReleaseList,
} from '@flotilla/protocol';
import {
  buildHost,
  EventStreamClient,
  GitFlakeRepo,
  installInitialSystem,
  JsonClient,
  sandboxNixEnv,
  signStorePath,
  startAgent,
  startController,
  writeHost,
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

/** The host whose deployments come from the repository and wait for approval. */
const PREPARED = 'prepared';

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

/** What the bench is doing now, on stderr (the figures alone go to stdout). */
const progress = (what: string) => console.error(`${new Date().toISOString()} ${what}…`);

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

/**
 * Follows a deployment to its end: ms from `started` (when its request was sent) until the
 * live event stream says it ended `succeeded` (as the web UI learns it; polling the API
 * every few ms would load the controller and the 2 cores the deployment runs on). With
 * `--log`, prints its log (on stderr), each line with its time and the ms since the line
 * before (the first after the request: since the request; lines written before it, e.g.
 * while it waited for approval, are marked `before`).
 */
async function followDeployment(
  api: JsonClient,
  id: string,
  label: string,
  started: number,
  requestedAt: number,
): Promise<number> {
  const { event } = await liveEvents().next(
    (e) =>
      e.type === 'deployment.changed' && e.id === id && FINAL_DEPLOYMENT_STATUSES.has(e.status),
    `deployment ${id} to end`,
    120_000,
  );
  // Taken before the log is fetched, which is not part of the deployment.
  const ms = performance.now() - started;
  const seenAt = Date.now();
  const status = event.type === 'deployment.changed' ? event.status : null;
  if (status !== 'succeeded') throw new Error(`deployment ${id} ${String(status)}`);
  if (values.log === true) {
    const { log } = (
      await api.get<{ log: { at: string; line: string }[] }>(`/api/v1/deployments/${id}`)
    ).body;
    console.error(`— ${label}: deployment ${id}, ${Math.round(ms)} ms`);
    let last = requestedAt;
    for (const line of log) {
      const at = Date.parse(line.at);
      const step = at < requestedAt ? '   before' : `+${String(at - last).padStart(4)} ms`;
      console.error(line.at, step, line.line.slice(0, 140));
      if (at >= requestedAt) last = at;
    }
    console.error(`${' '.repeat(24)} +${String(seenAt - last).padStart(4)} ms seen succeeded`);
  }
  return ms;
}

/**
 * Waits until no agent has a child process left (the last deployment's clean-up: its pins,
 * a new generation's GC root), so that neither the next deployment nor the next activation
 * baseline shares the 2 cores with the one before.
 */
async function agentsIdle(agents: readonly AgentHandle[]): Promise<void> {
  const pids = new Set(agents.map((agent) => agent.process.pid));
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (!(await hasChildren(pids))) return;
    if (performance.now() > deadline) throw new Error('the agents still run children after 30 s');
    await delay(20);
  }
}

/** Whether any process's parent is one of `pids` (from /proc/N/stat: the ppid after the last ")"). */
async function hasChildren(pids: ReadonlySet<number | undefined>): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (pids.has(ppid)) return true;
  }
  return false;
}

let events: EventStreamClient | null = null;

/** The controller's live event stream, opened once the controller runs. */
function liveEvents(): EventStreamClient {
  if (events === null) throw new Error('the live event stream is not open');
  return events;
}

/** A human's deploy through the API (it counts as the approval): ms from the request to `succeeded`. */
async function timeDeployment(
  api: JsonClient,
  host: string,
  storePath: string,
  label: string,
): Promise<number> {
  const started = performance.now();
  const requestedAt = Date.now();
  const created = await api.post<{ deployment: Deployment }>('/api/v1/deployments', {
    host,
    storePath,
  });
  if (created.status !== 201) throw new Error(`deploy: ${JSON.stringify(created.body)}`);
  return followDeployment(api, created.body.deployment.id, label, started, requestedAt);
}

/**
 * The everyday path: a new revision of the repository (a commit pushed to the bare repository
 * standing in for GitHub, then `POST /api/v1/repository/sync`) becomes a release through the
 * controller's pipeline; the host's policy (`manual`) makes its deployment wait for approval,
 * and its agent prepares the plan. Once the plan is `ready` (`GET /api/v1/approvals` shows it),
 * `POST /api/v1/approvals` approves it: the ms from that request to `succeeded`, the system
 * deployed, and the ms from the push to the plan being ready (not part of the timed span).
 */
async function timePreparedApproval(
  api: JsonClient,
  repo: GitFlakeRepo,
  host: string,
  version: string,
  label: string,
  agents: readonly AgentHandle[],
): Promise<{ ms: number; storePath: string; pushToPlanReadyMs: number }> {
  await writeHost(repo.work, { name: host, version });
  const sha = await repo.commit(`${host}: ${version}`);
  await repo.push();
  const pushedAt = performance.now();
  const synced = await api.post('/api/v1/repository/sync', {});
  if (synced.status !== 200) throw new Error(`sync: ${JSON.stringify(synced.body)}`);
  const waiting = await JsonClient.until(
    async () => {
      const { approvals } = (await api.get<PendingApprovalList>('/api/v1/approvals')).body;
      const approval = approvals.find((a) => a.host === host && a.sha === sha);
      const state = approval?.plan?.state;
      if (state === 'failed' || state === 'unavailable') {
        throw new Error(`the plan of ${sha} for ${host}: ${JSON.stringify(approval?.plan)}`);
      }
      return state === 'ready' ? approval : undefined;
    },
    `${host}'s prepared plan of ${sha}`,
    120_000,
  );
  const pushToPlanReadyMs = performance.now() - pushedAt;
  await agentsIdle(agents);
  const started = performance.now();
  const requestedAt = Date.now();
  const decided = await api.post<DecisionResult>('/api/v1/approvals', {
    decision: 'approve',
    deploymentId: waiting.deploymentId,
  });
  if (decided.status !== 200) throw new Error(`approve: ${JSON.stringify(decided.body)}`);
  const ms = await followDeployment(api, waiting.deploymentId, label, started, requestedAt);
  return { ms, storePath: waiting.storePath, pushToPlanReadyMs };
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

/** Median and each run of a deployment case, against the activation's own runtime. */
function caseFigures(deployMs: number[], activationMs: number[]) {
  return {
    approvalToSucceededMs: Math.round(median(deployMs)),
    approvalToSucceededEachMs: deployMs.map(Math.round),
    activationOwnMs: Math.round(median(activationMs)),
    activationOwnEachMs: activationMs.map(Math.round),
    // Flotilla's own share: the median deployment less the activation's own median.
    flotillaOwnShareMs: Math.round(median(deployMs) - median(activationMs)),
    ratio: Number((median(deployMs) / median(activationMs)).toFixed(2)),
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-programs-'));
  // Every system this run builds is new to the machine, so none is left from an earlier run.
  const tag = randomBytes(4).toString('hex');
  let controller: ControllerHandle | undefined;
  const agents: AgentHandle[] = [];
  try {
    progress('controller starts');
    const start = await controllerStart(dir);

    // The repository the controller tracks (a bare one stands in for GitHub): one host,
    // `prepared`, whose releases wait for approval (`manual`, a new host's policy).
    const repo = await GitFlakeRepo.create(join(dir, 'github'));
    await writeSandboxFlake(repo.work, [{ name: PREPARED, version: `${tag}-0` }]);
    await repo.commit('fleet');
    await repo.push();
    const configFile = join(dir, 'controller.json');
    await writeFile(
      configFile,
      JSON.stringify({ repository: { url: repo.bare, pollIntervalSeconds: 3600 } }),
    );
    controller = await startController({
      stateDir: join(dir, 'controller'),
      env: { FLOTILLA_CONFIG: configFile },
    });
    const api = new JsonClient(controller.url, controller.adminToken);
    events = await EventStreamClient.open(`${controller.url}/api/v1/events`, {
      authorization: `Bearer ${controller.adminToken}`,
    });
    if (events.status !== 200) throw new Error(`events: ${events.status} ${events.body ?? ''}`);
    const cache = await api.get<{ publicKey: string }>('/api/v1/cache');
    const fleet = { dir, controller, api, cacheKey: cache.body.publicKey };
    const signingKey = join(controller.stateDir, 'cache', 'signing-key.sec');
    // The system every human deploy starts from, and one new system for each run.
    progress(`building ${RUNS + 1} systems`);
    const flake = join(dir, 'flake');
    const systems: string[] = [];
    for (let run = 0; run <= RUNS; run++) {
      await writeSandboxFlake(flake, [{ name: 'bench', version: `${tag}-${run}` }]);
      const storePath = await buildHost(`path:${flake}`, 'bench');
      await signStorePath(storePath, signingKey);
      systems.push(storePath);
    }
    const [first = '', ...newSystems] = systems;
    // The first release of `prepared`, made by the pipeline: what that host runs at first.
    await api.post('/api/v1/repository/sync', {});
    const initialRelease = await JsonClient.until(
      async () =>
        (await api.get<ReleaseList>(`/api/v1/releases?host=${PREPARED}&status=ready`)).body
          .releases[0],
      `the first release of ${PREPARED}`,
      120_000,
    );
    progress(`idle agents (${SETTLE_SECONDS} s)`);
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

    // The host whose deployments come from the pipeline: the bundled agent, prefetch on.
    agents.push(await addAgent(fleet, PREPARED, PROGRAMS.agent.bundled, initialRelease.storePath));

    const scratch = join(dir, 'scratch');
    await mkdir(scratch, { recursive: true });
    const cases = {
      human: { deployMs: [] as number[], activationMs: [] as number[] },
      prepared: { deployMs: [] as number[], activationMs: [] as number[] },
      existing: { deployMs: [] as number[], activationMs: [] as number[] },
    };
    const pushToPlanReadyMs: number[] = [];
    const nodeStartMs: number[] = [];
    const nixStartMs: number[] = [];
    const loadAtStart = loadavg();
    // Each run takes the three cases in turn, so all three see the same machine.
    for (let run = 0; run < RUNS; run++) {
      progress(`deployments, run ${run + 1} of ${RUNS}`);
      // 1. A system the host never ran, deployed by a human, nothing prepared before.
      const fresh = newSystems[run] ?? '';
      await agentsIdle(agents);
      cases.human.deployMs.push(
        await timeDeployment(api, 'bundled', fresh, `run ${run + 1}, new release by a human`),
      );
      await agentsIdle(agents);
      cases.human.activationMs.push(await timeActivation(fresh, scratch));
      // 2. A new release of the repository, approved once its plan is ready.
      const prepared = await timePreparedApproval(
        api,
        repo,
        PREPARED,
        `${tag}-${run + 1}`,
        `run ${run + 1}, new release approved after its plan was prepared`,
        agents,
      );
      cases.prepared.deployMs.push(prepared.ms);
      pushToPlanReadyMs.push(prepared.pushToPlanReadyMs);
      await agentsIdle(agents);
      cases.prepared.activationMs.push(await timeActivation(prepared.storePath, scratch));
      // 3. Back to a generation the host's profile already has (the system it started with).
      await agentsIdle(agents);
      cases.existing.deployMs.push(
        await timeDeployment(
          api,
          'bundled',
          first,
          `run ${run + 1}, back to an existing generation`,
        ),
      );
      await agentsIdle(agents);
      cases.existing.activationMs.push(await timeActivation(first, scratch));
      nodeStartMs.push(await timeProcess(process.execPath, ['-e', '0']));
      nixStartMs.push(await timeProcess('nix-store', ['--check-validity', first]));
    }
    const deploy = {
      // The machine may be shared: its load when the deployments began and ended, for the record.
      loadAverageAtStart: loadAtStart.map((load) => Number(load.toFixed(2))),
      loadAverage: loadavg().map((load) => Number(load.toFixed(2))),
      // Each: from the request that approves (a human's deploy, or `POST /api/v1/approvals`)
      // to `succeeded`, against the same system's `switch-to-configuration test` + `boot`.
      newReleaseDeployedByHuman: caseFigures(cases.human.deployMs, cases.human.activationMs),
      newReleaseApprovedAfterPlanPrepared: {
        ...caseFigures(cases.prepared.deployMs, cases.prepared.activationMs),
        // Not part of the figure above: from the push (and sync) to the plan being ready.
        pushToPlanReadyMs: Math.round(median(pushToPlanReadyMs)),
      },
      backToExistingGeneration: caseFigures(cases.existing.deployMs, cases.existing.activationMs),
      // What one process start costs on this machine now: the overhead is mostly these.
      bareNodeStartMs: Math.round(median(nodeStartMs)),
      nixStoreStartMs: Math.round(median(nixStartMs)),
    };
    console.log(
      JSON.stringify({ runs: RUNS, controllerStart: start, idleAgent: memory, deploy }, null, 2),
    );
  } finally {
    events?.close();
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller?.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
