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
  buildInstallable,
  GitFlakeRepo,
  homeAttribute,
  writeSandboxFlake,
  type SandboxHostSpec,
} from '@flotilla/sandbox';
import type { DemoHost, DemoPaths } from './demo-state.js';

type SystemParts = Pick<SandboxHostSpec, 'packages' | 'units' | 'kernel'>;

/**
 * What the managed hosts ran before Flotilla: a few packages, systemd units and a kernel,
 * so that the first release's approval shows what a nixpkgs update changes.
 */
const BEFORE: SystemParts = {
  kernel: '6.6.20',
  packages: {
    openssl: { version: '3.0.13', kib: 240 },
    curl: { version: '8.6.0', kib: 64 },
    hello: { version: '2.10', kib: 20 },
    tzdata: { version: '2024a', kib: 32 },
    'node-exporter': { version: '1.7.0', kib: 96 },
  },
  units: {
    'sshd.service': { revision: '1', onChange: 'restart' },
    'nginx.service': { revision: '1', onChange: 'reload' },
    'backup.service': { revision: '1' },
    'node-exporter.service': { revision: '1' },
    'journald-upload.service': { revision: '1', onChange: 'keep' },
  },
};

/**
 * The repository's first configuration: newer packages, one more and one fewer, units
 * changed, added and removed; gpc0 (the gaming PC) also gets a newer kernel.
 */
function firstRelease(name: string): SystemParts {
  return {
    kernel: name === 'gpc0' ? '6.9.3' : '6.6.20',
    packages: {
      openssl: { version: '3.0.14', kib: 244 },
      hello: { version: '2.12', kib: 24 },
      tzdata: { version: '2024b', kib: 32 },
      'node-exporter': { version: '1.8.1', kib: 104 },
      nginx: { version: '1.26.0', kib: 128 },
      ...(name === 'gpc0' ? { steam: { version: '1.0.0.79', kib: 512 } } : {}),
    },
    units: {
      'sshd.service': { revision: '2', onChange: 'restart' },
      'nginx.service': { revision: '2', onChange: 'reload' },
      'backup.service': { revision: '2' },
      'metrics-push.service': { revision: '1' },
      'journald-upload.service': { revision: '2', onChange: 'keep' },
    },
  };
}

/** The fleet from the user's plan. */
export const FLEET: (SandboxHostSpec & DemoHost)[] = [
  { name: 'csb1', mode: 'managed', ...firstRelease('csb1') },
  { name: 'csb0', mode: 'managed', ...firstRelease('csb0') },
  { name: 'hsb0', mode: 'managed', ...firstRelease('hsb0') },
  { name: 'hsb1', mode: 'managed', ...firstRelease('hsb1') },
  { name: 'hsb8', mode: 'managed', ...firstRelease('hsb8') },
  { name: 'gpc0', mode: 'managed', ...firstRelease('gpc0') },
  // The three Macs are managed today with standalone home-manager: each is declared as
  // `homeConfigurations."markus@<mac>"`, which the controller evaluates for drift.
  { name: 'imac0', mode: 'monitor', kind: 'home-manager', homeUser: 'markus' },
  { name: 'mba-imac-work', mode: 'monitor', kind: 'home-manager', homeUser: 'markus' },
  { name: 'mba-mbp-work', mode: 'monitor', kind: 'home-manager', homeUser: 'markus' },
];

export const MACS = FLEET.filter((h) => h.kind === 'home-manager');

/**
 * What each Mac built itself from the repository's first commit (its home-manager
 * generation), as `home-manager switch` on the Mac would have: the Macs start up to date.
 */
export async function buildMacOutputs(paths: DemoPaths): Promise<Map<string, string>> {
  const outputs = new Map<string, string>();
  for (const mac of MACS) {
    outputs.set(
      mac.name,
      await buildInstallable(
        `path:${paths.flake}#homeConfigurations."${homeAttribute(mac)}".activationPackage`,
      ),
    );
  }
  return outputs;
}

export const MANAGED_HOSTS = FLEET.filter((h) => h.mode === 'managed');

/** Builds what each managed host ran before Flotilla (version 0), outside the repository. */
export async function buildInitialSystems(paths: DemoPaths): Promise<Map<string, string>> {
  await writeSandboxFlake(
    paths.initialSystems,
    FLEET.map((h) => (h.mode === 'managed' ? { ...h, ...BEFORE, version: '0' } : h)),
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
  // ready for phase 2 (gpc0 first, then hsb1/hsb8/csb1 after gpc0 is stable on auto for two weeks, hsb0/csb0 last).
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
      hsb1: { graduation: { after: [{ host: 'gpc0', stableDays: 14 }] } },
      hsb8: { graduation: { after: [{ host: 'gpc0', stableDays: 14 }] } },
      csb1: { graduation: { after: [{ host: 'gpc0', stableDays: 14 }] } },
      hsb0: { graduation: { stableDays: 30, after: ['hsb1', 'hsb8', 'csb1'] } },
      csb0: { graduation: { stableDays: 30, after: ['hsb1', 'hsb8', 'csb1'] } },
      ...Object.fromEntries(
        MACS.map((mac) => [
          mac.name,
          { output: { kind: 'home-manager', attribute: homeAttribute(mac) } },
        ]),
      ),
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
