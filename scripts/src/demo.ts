/**
 * `npm run demo`: a controller and the seed's nine hosts on this machine.
 * Six managed NixOS hosts and three monitor-only Macs, each agent sandboxed under
 * .demo/hosts/<name>, against a demo flake of tiny systems that build offline.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contextFilePath, writeContext } from '@flotilla/cli';
import type { Host, HostList, PendingApprovalList, ReleaseList } from '@flotilla/protocol';
import {
  buildHost,
  GitFlakeRepo,
  installInitialSystem,
  JsonClient,
  startAgent,
  startController,
  writeSandboxFlake,
  type AgentHandle,
  type SandboxHostSpec,
} from '@flotilla/sandbox';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DEMO_DIR = join(ROOT, '.demo');
/** What each host ran before Flotilla: built outside the repository, from version 0. */
const INITIAL_FLAKE_DIR = join(DEMO_DIR, 'initial-systems');

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

/** The demo's flake repository: a bare repo for "GitHub" and `.demo/flake` to edit and push from. */
async function createDemoRepository(): Promise<GitFlakeRepo> {
  const repo = await GitFlakeRepo.create(join(DEMO_DIR, 'github'), 'main', join(DEMO_DIR, 'flake'));
  await writeSandboxFlake(repo.work, FLEET);
  await writeFile(
    join(repo.work, 'README.md'),
    '# Demo fleet\n\nEdit `hosts/<name>.nix`, commit and `git push`: Flotilla builds what changed.\n',
  );
  // Commits made by hand in .demo/flake need an identity; keep it local to the demo clone.
  await repo.git(repo.work, ['config', 'user.name', 'Demo User']);
  await repo.git(repo.work, ['config', 'user.email', 'demo@flotilla.invalid']);
  await repo.commit('fleet: initial configuration (version 1 everywhere)');
  await repo.push();
  // So that a plain `git push` in .demo/flake works.
  await repo.git(repo.work, ['fetch', '--quiet', 'origin']);
  await repo.git(repo.work, ['branch', '--quiet', '--set-upstream-to', 'origin/main']);
  return repo;
}

/** The controller's config: the demo repository, a webhook secret, two builds at a time. */
async function writeControllerConfig(
  dir: string,
  bare: string,
): Promise<{ file: string; secretFile: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretFile = join(dir, 'webhook-secret');
  await writeFile(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const file = join(DEMO_DIR, 'controller.json');
  // The user's plan: every host manual at first (phase 1); waves and graduation criteria
  // ready for phase 2 (gpc0 first, then hsb1/hsb8/csb1 after gpc0 is stable, hsb0/csb0 last).
  const config = {
    repository: {
      url: bare,
      branch: 'main',
      pollIntervalSeconds: 30,
      webhookSecretFile: secretFile,
    },
    builds: { concurrency: 2 },
    deployments: { confirmTimeoutSeconds: 30 },
    rollout: {
      waves: [
        { name: 'guinea-pig', hosts: ['gpc0'], soakSeconds: 60 },
        { name: 'home-and-cloud', hosts: ['hsb1', 'hsb8', 'csb1'], soakSeconds: 60 },
        { name: 'critical', hosts: ['hsb0', 'csb0'] },
      ],
    },
    hosts: {
      gpc0: { graduation: { stableDays: 0 } },
      hsb1: { graduation: { stableDays: 14, after: ['gpc0'] } },
      hsb8: { graduation: { stableDays: 14, after: ['gpc0'] } },
      csb1: { graduation: { stableDays: 14, after: ['gpc0'] } },
      hsb0: { graduation: { stableDays: 30, after: ['hsb1', 'hsb8', 'csb1'] } },
      csb0: { graduation: { stableDays: 30, after: ['hsb1', 'hsb8', 'csb1'] } },
    },
  };
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return { file, secretFile };
}

/** A post-receive hook that calls the controller's GitHub webhook, signed, on every push. */
async function installPushHook(bare: string, url: string, secretFile: string): Promise<void> {
  const hook = join(bare, 'hooks', 'post-receive');
  const script = join(ROOT, 'scripts', 'dist', 'demo-webhook.js');
  await writeFile(
    hook,
    `#!/bin/sh\n# Demo: notify the controller like GitHub's push webhook.\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} --url ${JSON.stringify(url)} --secret-file ${JSON.stringify(secretFile)}\n`,
  );
  await chmod(hook, 0o755);
}

async function main(): Promise<void> {
  const port = process.env.FLOTILLA_DEMO_PORT ?? '8080';
  step(`preparing ${DEMO_DIR} (a fresh demo state each run)`);
  await rm(DEMO_DIR, { recursive: true, force: true });

  step('building what the six NixOS hosts ran before Flotilla (version 0; offline, tiny)');
  await writeSandboxFlake(
    INITIAL_FLAKE_DIR,
    FLEET.map((h) => ({ ...h, version: '0' })),
  );
  const systems = new Map<string, string>();
  for (const host of FLEET.filter((h) => h.mode === 'managed')) {
    systems.set(host.name, await buildHost(`path:${INITIAL_FLAKE_DIR}`, host.name));
  }

  step('creating the demo flake repository (.demo/github.git stands in for GitHub)');
  const repo = await createDemoRepository();
  const controllerDir = join(DEMO_DIR, 'controller');
  const config = await writeControllerConfig(controllerDir, repo.bare);

  step(`starting the controller on 127.0.0.1:${port}`);
  const controller = await startController({
    stateDir: controllerDir,
    listen: `127.0.0.1:${port}`,
    env: {
      FLOTILLA_LOG_LEVEL: 'info',
      FLOTILLA_HEARTBEAT_INTERVAL_SECONDS: '5',
      FLOTILLA_CONFIG: config.file,
    },
  }).catch((error: unknown) => {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n` +
        `Is port ${port} in use? Set FLOTILLA_DEMO_PORT to another port.`,
    );
  });
  await installPushHook(repo.bare, controller.url, config.secretFile);
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

  step(
    'waiting for the pipeline: one evaluation, six builds, six signed releases awaiting approval',
  );
  await JsonClient.until(
    async () => {
      const list = (await api.get<PendingApprovalList>('/api/v1/approvals')).body;
      return list.approvals.length >= systems.size ? list : undefined;
    },
    'a release waiting for approval on every managed host',
    180_000,
  );

  const contextFile = contextFilePath(process.env, homedir());
  await writeContext(
    contextFile,
    'demo',
    { url: controller.url, token: controller.adminToken },
    { makeCurrent: true },
  );

  const hosts = (await api.get<HostList>('/api/v1/hosts')).body.hosts;
  const ready = (await api.get<ReleaseList>('/api/v1/releases?status=ready')).body.releases;
  printSummary(controller.url, contextFile, hosts, ready.length);

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

function printSummary(url: string, contextFile: string, hosts: Host[], releases: number): void {
  const managed = hosts.filter((h) => h.mode === 'managed').length;
  const monitor = hosts.length - managed;
  const online = hosts.filter((h) => h.status === 'online').length;
  console.log(`
Flotilla demo is running: ${online}/${hosts.length} hosts online (${managed} managed, ${monitor} monitor-only),
${releases} releases built from the demo repository and waiting to be deployed.

  Controller API   ${url}/api/v1   (OpenAPI: ${url}/api/v1/openapi.json)
  Admin token      .demo/controller/admin-token
  CLI context      ${contextFile} (context "demo", now current)
  Repository       .demo/github/origin.git (stands in for GitHub), edit in .demo/flake
  Logs             .demo/controller/controller.log, .demo/hosts/<host>/agent.log

Phase 1 — every host waits for a human. In another terminal, from this directory:
  npx flotilla hosts
  npx flotilla approvals                      # six releases wait for approval
  npx flotilla approve <deployment id> --comment "looks good"
  npx flotilla deployments                    # it runs, is confirmed, and is verified
  npx flotilla rollback hsb1                  # back to the previous generation (pins hsb1)

Phase 2 — gpc0 graduates first; the others follow in waves:
  npx flotilla graduation                     # who may be promoted, and what is missing
  npx flotilla policy gpc0 auto
  cd .demo/flake && sed -i 's/version = "1"/version = "2"/' hosts/*.nix
  git commit -qam "everything: version 2" && git push -q && cd ../..
  npx flotilla builds                         # the push hook called the signed webhook
  npx flotilla approvals                      # gpc0 deployed by itself; the rest wait
  npx flotilla audit                          # who did what, when, and why

Monitor-only hosts refuse deployments:
  npx flotilla deploy imac0 ${hosts.find((h) => h.name === 'hsb1')?.facts?.system.current ?? '/nix/store/…'}

Press Ctrl-C to stop.`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
