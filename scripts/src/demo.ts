/**
 * `npm run demo`: a controller and the seed's nine hosts on this machine.
 * Six managed NixOS hosts and three monitor-only Macs, each agent sandboxed under
 * .demo/hosts/<name>, against a demo flake of tiny systems that build offline.
 */
import { rm, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contextFilePath, writeContext } from '@flotilla/cli';
import type { Host, HostList } from '@flotilla/protocol';
import {
  buildHost,
  JsonClient,
  run,
  sandboxHostPaths,
  startAgent,
  startController,
  writeSandboxFlake,
  type AgentHandle,
  type SandboxHostSpec,
} from '@flotilla/sandbox';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DEMO_DIR = join(ROOT, '.demo');
const FLAKE_DIR = join(DEMO_DIR, 'flake');

/** The fleet from the user's plan. */
const FLEET: (SandboxHostSpec & { mode: 'managed' | 'monitor' })[] = [
  { name: 'csb1', mode: 'managed' },
  { name: 'csb0', mode: 'managed' },
  { name: 'hsb0', mode: 'managed' },
  { name: 'hsb1', mode: 'managed' },
  { name: 'hsb8', mode: 'managed' },
  { name: 'gpc0', mode: 'managed' },
  { name: 'imac0', mode: 'monitor', kind: 'darwin' },
  { name: 'mba-imac-work', mode: 'monitor', kind: 'darwin' },
  { name: 'mba-mbp-work', mode: 'monitor', kind: 'darwin' },
];

function step(text: string): void {
  console.log(`\x1b[1m==>\x1b[0m ${text}`);
}

/** Makes a sandboxed host "already run" a first system, as a real host would. */
async function installInitialSystem(root: string, storePath: string): Promise<void> {
  const paths = sandboxHostPaths(root);
  await mkdir(join(root, 'profiles'), { recursive: true });
  await mkdir(join(root, 'run'), { recursive: true });
  const set = await run('nix-env', ['-p', paths.profile, '--set', storePath]);
  if (set.code !== 0) throw new Error(`nix-env --set failed: ${set.stderr}`);
  for (const link of [paths.currentSystemLink, paths.bootedSystemLink]) {
    await rm(link, { force: true });
    await run('ln', ['-sfn', storePath, link]);
  }
}

async function main(): Promise<void> {
  const port = process.env.FLOTILLA_DEMO_PORT ?? '8080';
  step(`preparing ${DEMO_DIR} (a fresh demo state each run)`);
  await rm(DEMO_DIR, { recursive: true, force: true });
  await writeSandboxFlake(FLAKE_DIR, FLEET);

  step('building the six NixOS host systems with nix build (offline, tiny)');
  const systems = new Map<string, string>();
  for (const host of FLEET.filter((h) => h.mode === 'managed')) {
    systems.set(host.name, await buildHost(`path:${FLAKE_DIR}`, host.name));
  }

  step(`starting the controller on 127.0.0.1:${port}`);
  const controller = await startController({
    stateDir: join(DEMO_DIR, 'controller'),
    listen: `127.0.0.1:${port}`,
    env: { FLOTILLA_LOG_LEVEL: 'info', FLOTILLA_HEARTBEAT_INTERVAL_SECONDS: '5' },
  }).catch((error: unknown) => {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n` +
        `Is port ${port} in use? Set FLOTILLA_DEMO_PORT to another port.`,
    );
  });
  const api = new JsonClient(controller.url, controller.adminToken);

  step('registering the nine hosts and starting their agents');
  const agents: AgentHandle[] = [];
  for (const host of FLEET) {
    const response = await api.post<{ token: string }>('/api/v1/hosts', {
      name: host.name,
      mode: host.mode,
      os: host.kind === 'darwin' ? 'darwin' : 'linux',
    });
    if (response.status !== 201)
      throw new Error(`registering ${host.name}: ${JSON.stringify(response.body)}`);
    const root = join(DEMO_DIR, 'hosts', host.name);
    const system = systems.get(host.name);
    if (system) await installInitialSystem(root, system);
    agents.push(
      await startAgent({
        host: host.name,
        controllerUrl: controller.url,
        token: response.body.token,
        root,
        mode: host.mode,
      }),
    );
  }
  await JsonClient.until(
    async () => {
      const list = (await api.get<HostList>('/api/v1/hosts')).body;
      return list.counts.online === FLEET.length ? list : undefined;
    },
    'all nine agents to come online',
    60_000,
  );

  const contextFile = contextFilePath(process.env, homedir());
  await writeContext(
    contextFile,
    'demo',
    { url: controller.url, token: controller.adminToken },
    { makeCurrent: true },
  );

  const hosts = (await api.get<HostList>('/api/v1/hosts')).body.hosts;
  printSummary(controller.url, contextFile, hosts);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the demo fleet…`);
    await Promise.all(agents.map((a) => a.process.stop()));
    await controller.process.stop();
    console.log(`stopped. State is kept in ${DEMO_DIR} until the next run.`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  controller.process.exited.then(
    (code) => {
      if (!stopping) {
        console.error(
          `the controller exited unexpectedly (${code}); see ${join(DEMO_DIR, 'controller', 'controller.log')}`,
        );
        void stop('controller exit');
      }
    },
    () => undefined,
  );
}

function printSummary(url: string, contextFile: string, hosts: Host[]): void {
  const managed = hosts.filter((h) => h.mode === 'managed').length;
  const monitor = hosts.length - managed;
  const online = hosts.filter((h) => h.status === 'online').length;
  console.log(`
Flotilla demo is running: ${online}/${hosts.length} hosts online (${managed} managed, ${monitor} monitor-only).

  Controller API   ${url}/api/v1   (OpenAPI: ${url}/api/v1/openapi.json)
  Admin token      .demo/controller/admin-token
  CLI context      ${contextFile} (context "demo", now current)
  Logs             .demo/controller/controller.log, .demo/hosts/<host>/agent.log

Try, in another terminal from this directory:
  npx flotilla hosts
  npx flotilla host hsb1

Change a host and deploy it (the sandboxed hsb1 really switches):
  sed -i 's/version = "1"/version = "2"/' .demo/flake/hosts/hsb1.nix
  npx flotilla deploy hsb1 $(bash scripts/demo-build.sh hsb1) --follow
  readlink .demo/hosts/hsb1/run/current-system

Monitor-only hosts refuse deployments:
  npx flotilla deploy imac0 ${hosts.find((h) => h.name === 'hsb1')?.facts?.system.current ?? '/nix/store/…'}

Press Ctrl-C to stop.`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
