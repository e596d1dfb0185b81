/**
 * The demo fleet and what its first run creates: the systems the hosts ran before Flotilla,
 * the flake repository, the webhook secret. The controller's config and the push hook are
 * written on every run, so a resumed demo matches the current port and paths.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildHost,
  GitFlakeRepo,
  writeSandboxFlake,
  type SandboxHostSpec,
} from '@flotilla/sandbox';
import type { DemoHost, DemoPaths } from './demo-state.js';

/** The fleet from the user's plan. */
export const FLEET: (SandboxHostSpec & DemoHost)[] = [
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

export const MANAGED_HOSTS = FLEET.filter((h) => h.mode === 'managed');

/** Builds what each managed host ran before Flotilla (version 0), outside the repository. */
export async function buildInitialSystems(paths: DemoPaths): Promise<Map<string, string>> {
  await writeSandboxFlake(
    paths.initialSystems,
    FLEET.map((h) => ({ ...h, version: '0' })),
  );
  const systems = new Map<string, string>();
  for (const host of MANAGED_HOSTS) {
    systems.set(host.name, await buildHost(`path:${paths.initialSystems}`, host.name));
  }
  return systems;
}

/** The demo's flake repository: a bare repo for "GitHub" and `.demo/flake` to edit and push from. */
export async function createDemoRepository(paths: DemoPaths): Promise<void> {
  const repo = await GitFlakeRepo.create(paths.githubDir, 'main', paths.flake);
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
}

/** The secret the push hook signs webhooks with; created once, kept with the controller's state. */
export async function createWebhookSecret(paths: DemoPaths): Promise<void> {
  await mkdir(paths.controllerDir, { recursive: true, mode: 0o700 });
  await writeFile(paths.webhookSecret, randomBytes(32).toString('hex'), { mode: 0o600 });
}

/** The controller's config: the demo repository, the webhook secret, two builds at a time. */
export async function writeControllerConfig(paths: DemoPaths): Promise<void> {
  // The user's plan: every host manual at first (phase 1); waves and graduation criteria
  // ready for phase 2 (gpc0 first, then hsb1/hsb8/csb1 after gpc0 is stable, hsb0/csb0 last).
  const config = {
    repository: {
      url: paths.bare,
      branch: 'main',
      pollIntervalSeconds: 30,
      webhookSecretFile: paths.webhookSecret,
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
  await writeFile(paths.controllerConfig, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * A post-receive hook that calls the controller's GitHub webhook, signed, on every push.
 * Rewritten on every run: the controller's port may have changed.
 */
export async function installPushHook(
  paths: DemoPaths,
  controllerUrl: string,
  webhookScript: string,
): Promise<void> {
  const hook = join(paths.bare, 'hooks', 'post-receive');
  const command = [
    process.execPath,
    webhookScript,
    '--url',
    controllerUrl,
    '--secret-file',
    paths.webhookSecret,
  ];
  await writeFile(
    hook,
    `#!/bin/sh\n# Demo: notify the controller like GitHub's push webhook.\nexec ${command.map(shellQuote).join(' ')}\n`,
  );
  await chmod(hook, 0o755);
}

/** Quotes a value for a POSIX shell script. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
