/**
 * `npm run demo`: a controller and the seed's nine hosts on this machine.
 * Six managed NixOS hosts and three monitor-only Macs, each agent sandboxed under
 * .demo/hosts/<name>, against a demo flake of tiny systems that build offline.
 *
 * The demo keeps its state in .demo and resumes it on the next run (`--fresh` starts
 * over). One demo at a time per checkout: .demo/demo.lock holds the running demo's pid.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { contextFilePath, writeContext } from '@flotilla/cli';
import type {
  CacheInfo,
  CreateHostResponse,
  HostList,
  PendingApprovalList,
} from '@flotilla/protocol';
import {
  installInitialSystem,
  sandboxHostPaths,
  switchMac,
  JsonClient,
  PidLock,
  startAgent,
  startController,
  type AgentHandle,
  type ControllerHandle,
} from '@flotilla/sandbox';
import {
  commandLine,
  DemoProcesses,
  DemoStopping,
  processRunning,
  stopLeftovers,
} from './demo-processes.js';
import {
  buildInitialSystems,
  buildMacOutputs,
  createDemoRepository,
  createWebhookSecret,
  FLEET,
  installPushHook,
  MANAGED_HOSTS,
  writeControllerConfig,
} from './demo-setup.js';
import {
  deleteSavedDemo,
  demoHostRoot,
  demoPaths,
  inspectSavedDemo,
  saveEnrollmentToken,
  writeDemoState,
  type DemoPaths,
} from './demo-state.js';
import { printSummary } from './demo-summary.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DEMO_DIR = join(ROOT, '.demo');
const WEBHOOK_SCRIPT = join(ROOT, 'scripts', 'dist', 'demo-webhook.js');
const DEFAULT_PORT = '8080';
const FRESH_HINT = 'Run `npm run demo -- --fresh` to delete .demo and start over.';

const USAGE = `Usage: npm run demo [-- --fresh]

Runs a Flotilla controller and nine sandboxed hosts on this machine. The demo keeps its
state in .demo (controller database, demo repository, each host's sandbox) and resumes
it on the next run.

  --fresh        delete the saved demo in .demo and start over
  -h, --help     print this help

FLOTILLA_DEMO_PORT sets the controller's port (default ${DEFAULT_PORT}).
`;

/** An error whose message is all the user needs: no "demo failed" prefix, no stack. */
class DemoRefusal extends Error {}

function step(text: string): void {
  console.log(`\x1b[1m==>\x1b[0m ${text}`);
}

/** Whether `pid` is a running demo (not another process that got a dead demo's pid). */
function isDemo(pid: number): boolean {
  if (!processRunning(pid)) return false;
  const command = commandLine(pid);
  return command === null || command.includes('demo.js');
}

/** Takes .demo/demo.lock, or explains which demo holds it and how to stop it. */
async function takeLock(paths: DemoPaths): Promise<PidLock> {
  const result = await PidLock.acquire(paths.lockFile, { isAlive: isDemo });
  switch (result.kind) {
    case 'acquired':
      if (result.tookOverFrom !== null) {
        step(`the demo before (pid ${result.tookOverFrom}) did not exit cleanly; taking over`);
      }
      return result.lock;
    case 'held':
      throw new DemoRefusal(
        `Another demo is already running in this checkout (pid ${result.pid}) and owns ${paths.dir}.\n` +
          `Stop it with Ctrl-C in its terminal, or: kill ${result.pid}\n` +
          'To run a second demo side by side, run it from another checkout with ' +
          'FLOTILLA_DEMO_PORT set to a free port.',
      );
    case 'stuck':
      throw new DemoRefusal(
        `A demo (pid ${result.pid ?? 'unknown'}) died while taking over ${paths.lockFile}.\n` +
          `If no demo runs in this checkout, delete ${result.guardFile} and run the demo again.`,
      );
  }
}

async function startDemoController(
  paths: DemoPaths,
  port: string,
  processes: DemoProcesses,
  resuming: boolean,
): Promise<ControllerHandle> {
  step(`starting the controller on 127.0.0.1:${port}`);
  const launch = () =>
    startController({
      stateDir: paths.controllerDir,
      listen: `127.0.0.1:${port}`,
      env: {
        FLOTILLA_LOG_LEVEL: 'info',
        FLOTILLA_HEARTBEAT_INTERVAL_SECONDS: '5',
        FLOTILLA_CONFIG: paths.controllerConfig,
      },
    });
  return processes.start('controller', launch).catch((error: unknown) => {
    if (error instanceof DemoStopping) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const inUse = /EADDRINUSE/.test(reason);
    throw new DemoRefusal(
      `The controller did not start: ${reason}\n` +
        (inUse
          ? `Port ${port} is in use: set FLOTILLA_DEMO_PORT to another port.`
          : resuming
            ? `It could not run on the saved state in ${paths.controllerDir}. ${FRESH_HINT}`
            : `Is port ${port} in use? Set FLOTILLA_DEMO_PORT to another port.`),
    );
  });
}

/**
 * First run: registers every host, hands it its one-time enrollment token in its sandbox
 * and installs its old system. Each agent enrolls a key of its own when it first starts.
 */
async function registerHosts(
  paths: DemoPaths,
  api: JsonClient,
  systems: Map<string, string>,
): Promise<void> {
  step('registering the nine hosts (each gets a one-time enrollment token in its sandbox)');
  for (const host of FLEET) {
    const response = await api.post<CreateHostResponse>('/api/v1/hosts', {
      name: host.name,
      mode: host.mode,
      os: host.mode === 'monitor' ? 'darwin' : 'linux',
    });
    if (response.status !== 201)
      throw new Error(`registering ${host.name}: ${JSON.stringify(response.body)}`);
    await saveEnrollmentToken(paths, host.name, response.body.enrollment.token);
    const system = systems.get(host.name);
    const root = demoHostRoot(paths, host.name);
    if (system && host.kind === 'home-manager') {
      await switchMac(sandboxHostPaths(root), 'home-manager', system);
    } else if (system) await installInitialSystem(root, system);
  }
}

/** Resumed run: the controller must still know every host of the fleet. */
async function checkHostsKnown(api: JsonClient): Promise<void> {
  const response = await api.get<HostList>('/api/v1/hosts');
  if (response.status !== 200) {
    throw new Error(`listing hosts: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  }
  const known = new Set(response.body.hosts.map((h) => h.name));
  const missing = FLEET.filter((h) => !known.has(h.name)).map((h) => h.name);
  if (missing.length > 0) {
    throw new DemoRefusal(
      `Cannot resume the demo: the saved controller database does not know ${missing.join(', ')}.\n${FRESH_HINT}`,
    );
  }
}

/**
 * Starts the nine agents. Each enrolls with the token in its sandbox on its first start and
 * proves its own key (kept in its sandbox) from then on; all trust the controller's cache key.
 */
async function startAgents(
  paths: DemoPaths,
  controllerUrl: string,
  cacheKey: string,
  processes: DemoProcesses,
): Promise<AgentHandle[]> {
  const agents: AgentHandle[] = [];
  for (const host of FLEET) {
    const agent = await processes.start(host.name, () =>
      startAgent({
        host: host.name,
        controllerUrl,
        trustedPublicKeys: [cacheKey],
        root: demoHostRoot(paths, host.name),
        mode: host.mode,
        // The Macs' agents report as macOS (a sandbox facility: see the sandbox's mac.ts).
        mac: host.mode === 'monitor',
      }),
    );
    agents.push(agent);
  }
  return agents;
}

/** An agent the controller turned away, with what it logged; such a host never comes online. */
function refusedAgent(agents: AgentHandle[]): string | null {
  for (const agent of agents) {
    if (!agent.process.running) {
      return `the agent of ${agent.paths.root} exited:\n${agent.process.lines.slice(-5).join('\n')}`;
    }
    for (const line of agent.process.lines) {
      let entry: { level?: string; msg?: string; status?: number; code?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const refused =
        entry.status === 401 ||
        entry.status === 403 ||
        [
          'unauthorized',
          'agent_not_enrolled',
          'invalid_signature',
          'host_not_found',
          'host_mismatch',
        ].includes(entry.code ?? '');
      if (entry.level === 'error' && refused) {
        return `the controller refused the agent of ${agent.paths.root}: ${entry.msg ?? line}`;
      }
    }
  }
  return null;
}

async function waitForAgents(api: JsonClient, agents: AgentHandle[], resuming: boolean) {
  await JsonClient.until(
    async () => {
      const refusal = refusedAgent(agents);
      if (refusal !== null) {
        throw new DemoRefusal(
          resuming
            ? `Cannot resume the demo: ${refusal}\nThe saved agent keys do not match the saved controller. ${FRESH_HINT}`
            : refusal,
        );
      }
      const list = (await api.get<HostList>('/api/v1/hosts')).body;
      return list.counts.online === FLEET.length ? list : undefined;
    },
    'all nine agents to come online',
    60_000,
  );
}

/** How far this run got; a run stopped while `setting-up` leaves an incomplete state. */
interface RunState {
  phase: 'preparing' | 'setting-up' | 'ready';
  stopping: boolean;
}

/** A state to run on: the saved one, or a new one set up as far as it can be without a controller. */
interface OpenedState {
  resuming: boolean;
  createdAt: string;
  /** What each managed host ran before Flotilla (new demos only). */
  systems: Map<string, string>;
}

async function openState(paths: DemoPaths, fresh: boolean, run: RunState): Promise<OpenedState> {
  await stopLeftovers(paths.processesFile, paths.dir, step);
  if (fresh) {
    step(`--fresh: deleting the saved demo in ${DEMO_DIR}`);
    await deleteSavedDemo(paths);
  }
  const saved = await inspectSavedDemo(paths, FLEET);
  switch (saved.kind) {
    case 'unusable':
      throw new DemoRefusal(`Cannot resume the demo: ${saved.reason}.\n${FRESH_HINT}`);
    case 'resumable': {
      const { createdAt } = saved.state;
      step(`resuming the demo saved in ${DEMO_DIR} (set up ${createdAt}; --fresh starts over)`);
      return { resuming: true, createdAt, systems: new Map() };
    }
    case 'none':
      break;
  }
  const createdAt = new Date().toISOString();
  step(`setting up a new demo in ${DEMO_DIR}`);
  run.phase = 'setting-up';
  await writeDemoState(paths, 'setting-up', FLEET, createdAt);
  step('building what the six NixOS hosts ran before Flotilla (version 0; offline, tiny)');
  const systems = await buildInitialSystems(paths);
  step('creating the demo flake repository (.demo/github/origin.git stands in for GitHub)');
  await createDemoRepository(paths);
  step("building the three Macs' home-manager generations (what each Mac switched to itself)");
  for (const [mac, output] of await buildMacOutputs(paths)) systems.set(mac, output);
  await createWebhookSecret(paths);
  return { resuming: false, createdAt, systems };
}

/** Starts the controller and the agents; a new demo registers its hosts and waits for releases. */
async function startFleet(
  paths: DemoPaths,
  port: string,
  processes: DemoProcesses,
  state: OpenedState,
  run: RunState,
): Promise<{ controller: ControllerHandle; api: JsonClient }> {
  await writeControllerConfig(paths);
  const controller = await startDemoController(paths, port, processes, state.resuming);
  await installPushHook(paths, controller.url, WEBHOOK_SCRIPT);
  const api = new JsonClient(controller.url, controller.adminToken);
  if (state.resuming) {
    await checkHostsKnown(api);
    run.phase = 'ready';
  } else {
    await registerHosts(paths, api, state.systems);
  }
  const cache = await api.get<CacheInfo>('/api/v1/cache');
  if (cache.status !== 200) throw new Error(`GET /api/v1/cache: HTTP ${cache.status}`);

  step(
    state.resuming
      ? 'starting the nine agents with the keys they enrolled'
      : 'starting the nine agents: each makes its own key and enrolls it with its token',
  );
  const agents = await startAgents(paths, controller.url, cache.body.publicKey, processes);
  await waitForAgents(api, agents, state.resuming);
  if (!state.resuming) {
    // Only now is the demo resumable: every agent holds an enrolled key.
    await writeDemoState(paths, 'ready', FLEET, state.createdAt);
    run.phase = 'ready';
    step(
      'waiting for the pipeline: one evaluation, six builds, six signed releases awaiting approval',
    );
    await JsonClient.until(
      async () => {
        const list = (await api.get<PendingApprovalList>('/api/v1/approvals')).body;
        return list.approvals.length >= MANAGED_HOSTS.length ? list : undefined;
      },
      'a release waiting for approval on every managed host',
      180_000,
    );
  }
  return { controller, api };
}

/** Writes the CLI context and prints the summary. */
async function announce(
  port: string,
  controller: ControllerHandle,
  api: JsonClient,
  state: OpenedState,
): Promise<void> {
  // Two checkouts may run demos side by side: each keeps a context of its own port.
  const contextName = port === DEFAULT_PORT ? 'demo' : `demo-${port}`;
  const contextFile = contextFilePath(process.env, homedir());
  await writeContext(
    contextFile,
    contextName,
    { url: controller.url, token: controller.adminToken },
    { makeCurrent: true },
  );
  await printSummary(api, {
    url: controller.url,
    contextFile,
    contextName,
    resumedFrom: state.resuming ? state.createdAt : null,
    admin: controller.admin,
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { fresh: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const port = process.env.FLOTILLA_DEMO_PORT ?? DEFAULT_PORT;
  const paths = demoPaths(DEMO_DIR);
  await mkdir(paths.dir, { recursive: true });
  const lock = await takeLock(paths);
  process.on('exit', () => lock.releaseSync());
  const processes = new DemoProcesses(paths.processesFile);
  const run: RunState = { phase: 'preparing', stopping: false };
  /** Stops everything this demo started; `why` is null after an error (already reported). */
  const stop = async (why: string | null, code: number) => {
    if (run.stopping) return;
    run.stopping = true;
    if (processes.count > 0)
      console.log(`\n${why === null ? '' : `${why}: `}stopping the demo fleet…`);
    await processes.stopAll();
    await lock.release();
    if (why !== null && run.phase === 'ready') {
      console.log(
        `stopped. The demo's state stays in ${DEMO_DIR}: \`npm run demo\` resumes it, \`npm run demo -- --fresh\` starts over.`,
      );
    } else if (run.phase === 'setting-up') {
      console.log(`stopped before the demo was set up. ${FRESH_HINT}`);
    } else if (processes.count > 0) {
      console.log('stopped.');
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('Ctrl-C', 130));
  process.on('SIGTERM', () => void stop('SIGTERM', 143));

  try {
    const state = await openState(paths, values.fresh === true, run);
    const { controller, api } = await startFleet(paths, port, processes, state, run);
    await announce(port, controller, api, state);
    controller.process.exited.then(
      (code) => {
        if (run.stopping) return;
        const log = join(paths.controllerDir, 'controller.log');
        console.error(`the controller exited unexpectedly (${code}); see ${log}`);
        void stop('controller exit', 1);
      },
      () => undefined,
    );
  } catch (error) {
    // Stopping on a signal pulls the controller away from whatever was still talking to it.
    if (run.stopping) return;
    if (error instanceof DemoRefusal) console.error(`\n${error.message}`);
    else console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    await stop(null, 1);
  }
}

main().catch((error: unknown) => {
  if (error instanceof DemoRefusal) console.error(error.message);
  else console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
