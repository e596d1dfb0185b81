import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HealthCheck } from '@flotilla/protocol';
import { writeMacCommands } from './mac.js';
import { sandboxNixEnv } from './nix.js';
import { ManagedProcess } from './process.js';

const CONTROLLER_MAIN = fileURLToPath(new URL('../../controller/dist/main.js', import.meta.url));
/** The bundled controller (scripts/bundle.mjs): the program its package installs. */
const CONTROLLER_BUNDLE = fileURLToPath(
  new URL('../../../dist/controller/flotilla-controller.mjs', import.meta.url),
);
/**
 * The bundled agent (`npm run build`, scripts/bundle.mjs), the program hosts run: tests and
 * the demo exercise exactly what is shipped, activation runner and Node.js flags included.
 */
const AGENT_BUNDLE = fileURLToPath(
  new URL('../../../dist/agent/flotilla-agent.mjs', import.meta.url),
);

export interface ControllerHandle {
  process: ManagedProcess;
  url: string;
  /** An API token (admin scope) of the sandbox's first admin. */
  adminToken: string;
  /** That admin's name and password, for tests that log in as a person. */
  admin: SandboxAdmin;
  stateDir: string;
}

export interface SandboxAdmin {
  username: string;
  password: string;
  token: string;
}

/** Where the sandbox keeps its admin's credentials (0600, beside the controller's state). */
export const SANDBOX_ADMIN_FILE = 'sandbox-admin.json';

export interface StartControllerOptions {
  stateDir: string;
  listen?: string;
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
  logFile?: string;
  extraArgs?: string[];
  /** Run the bundled program (dist/controller) instead of the compiled packages. */
  bundled?: boolean;
}

/** Starts a real controller process and waits until it listens. */
export async function startController(options: StartControllerOptions): Promise<ControllerHandle> {
  await mkdir(options.stateDir, { recursive: true });
  const proc = new ManagedProcess(
    process.execPath,
    [
      options.bundled === true ? CONTROLLER_BUNDLE : CONTROLLER_MAIN,
      '--state-dir',
      options.stateDir,
      '--listen',
      options.listen ?? '127.0.0.1:0',
      ...(options.extraArgs ?? []),
    ],
    {
      env: { ...sandboxNixEnv(), FLOTILLA_LOG_LEVEL: 'debug', ...options.env },
      label: 'controller',
      echo: options.echo ?? false,
      logFile: options.logFile ?? join(options.stateDir, 'controller.log'),
    },
  );
  let line: string;
  try {
    line = await Promise.race([
      proc.waitForLine(/"msg":"listening"/, 30_000),
      proc.exited.then((code) => {
        throw new Error(
          `controller exited with ${code} before listening:\n${proc.lines.join('\n')}`,
        );
      }),
    ]);
  } catch (error) {
    // Never leave a half-started controller behind.
    await proc.kill();
    throw error;
  }
  const { url } = JSON.parse(line) as { url: string };
  try {
    const admin = await sandboxAdmin(url, options.stateDir);
    return { process: proc, url, adminToken: admin.token, admin, stateDir: options.stateDir };
  } catch (error) {
    await proc.kill();
    throw error;
  }
}

/**
 * The sandbox's first admin, made the way a person makes one on a first start: the
 * one-time setup token from the state directory, `POST /api/v1/setup`, then an admin API
 * token. Kept in a 0600 file, so a restarted controller is driven by the same admin.
 */
async function sandboxAdmin(url: string, stateDir: string): Promise<SandboxAdmin> {
  const file = join(stateDir, SANDBOX_ADMIN_FILE);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SandboxAdmin;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const setupToken = (await readFile(join(stateDir, 'setup-token'), 'utf8')).trim();
  const username = 'admin';
  const password = randomBytes(18).toString('base64url');
  await postJson(`${url}/api/v1/setup`, { setupToken, username, password });
  const created = (await postJson(`${url}/api/v1/auth/token`, {
    username,
    password,
    name: 'sandbox',
    scope: 'admin',
  })) as { token: string };
  const admin: SandboxAdmin = { username, password, token: created.token };
  await writeFile(file, `${JSON.stringify(admin)}\n`, { mode: 0o600 });
  return admin;
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer: unknown = await response.json();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

export interface SandboxHostPaths {
  root: string;
  profile: string;
  currentSystemLink: string;
  bootedSystemLink: string;
  stateDir: string;
  /** The one-time enrollment token the agent enrolls with (mode 0600). */
  enrollmentTokenFile: string;
  /** The agent's own key and what it knows of its enrollment (in its state directory). */
  identityDir: string;
  /** The agent's JSON config file (its health checks), when it has one. */
  configFile: string;
  /** The host's own boot id, used instead of the machine's when reboots are simulated. */
  bootIdFile: string;
  /** The host's simulated reboot command (see {@link writeSandboxReboot}). */
  rebootScript: string;
  /** One line per simulated reboot: the marker a reboot leaves instead of rebooting anything. */
  rebootMarker: string;
  /** The host's own hostname, read by its agent instead of the machine's. */
  hostnameFile: string;
  /** The host's own machine id, generated once (see {@link writeSandboxIdentity}). */
  machineIdFile: string;
  /** A sandboxed Mac's home-manager profile (its generations are `home-manager-N-link`). */
  homeManagerProfile: string;
  /** A sandboxed Mac's programs (see `writeMacCommands`). */
  macCommandsDir: string;
}

/** Where a sandboxed host keeps what a real NixOS host keeps in /nix/var and /run. */
export function sandboxHostPaths(root: string): SandboxHostPaths {
  return {
    root,
    profile: join(root, 'profiles', 'system'),
    currentSystemLink: join(root, 'run', 'current-system'),
    bootedSystemLink: join(root, 'run', 'booted-system'),
    stateDir: join(root, 'agent'),
    enrollmentTokenFile: join(root, 'enrollment-token'),
    identityDir: join(root, 'agent', 'identity'),
    configFile: join(root, 'agent.json'),
    bootIdFile: join(root, 'run', 'boot_id'),
    rebootScript: join(root, 'reboot.sh'),
    rebootMarker: join(root, 'run', 'reboots'),
    hostnameFile: join(root, 'etc', 'hostname'),
    machineIdFile: join(root, 'etc', 'machine-id'),
    homeManagerProfile: join(root, 'profiles', 'home-manager'),
    macCommandsDir: join(root, 'mac-bin'),
  };
}

/**
 * Gives a sandboxed host the identity a real host has, so its facts are its own and not the
 * machine's: a hostname file holding its name, and a machine id generated on first use and
 * kept from then on (like systemd's, 32 lowercase hex digits). Returns the machine id.
 */
export async function writeSandboxIdentity(paths: SandboxHostPaths, host: string): Promise<string> {
  await mkdir(dirname(paths.hostnameFile), { recursive: true });
  await writeFile(paths.hostnameFile, `${host}\n`);
  const generated = randomUUID().replace(/-/g, '');
  try {
    await writeFile(paths.machineIdFile, `${generated}\n`, { flag: 'wx' });
    return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Already there: the host keeps its machine id for as long as its directory lives.
    return (await readFile(paths.machineIdFile, 'utf8')).trim();
  }
}

/** Quotes a value for a POSIX shell script. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Gives a sandboxed host a boot id of its own and a reboot command that "reboots" it
 * without touching anything outside its directory: a new boot id, and the booted and
 * current system links pointed at the profile's target (the boot default), as a real boot
 * would do. The agent runs the script as its `--reboot-command` (no spaces in the path).
 */
export async function writeSandboxReboot(paths: SandboxHostPaths): Promise<void> {
  await mkdir(dirname(paths.bootIdFile), { recursive: true });
  try {
    await writeFile(paths.bootIdFile, `${randomUUID()}\n`, { flag: 'wx' });
  } catch {
    // Already there: the host keeps its boot across agent restarts.
  }
  const script = `#!/bin/sh
# Simulated reboot of one sandboxed host; it touches only that host's directory.
set -eu
export PATH=/usr/bin:/bin
boot_id=${shellQuote(paths.bootIdFile)}
profile=${shellQuote(paths.profile)}
date -u +%Y-%m-%dT%H:%M:%SZ >> ${shellQuote(paths.rebootMarker)}
cat /proc/sys/kernel/random/uuid > "$boot_id.new"
mv "$boot_id.new" "$boot_id"
if [ -e "$profile" ]; then
  target=$(readlink -f "$profile")
  for link in ${shellQuote(paths.bootedSystemLink)} ${shellQuote(paths.currentSystemLink)}; do
    ln -sfn "$target" "$link.new"
    mv -T "$link.new" "$link"
  done
  echo "rebooted into $target"
else
  echo "rebooted (no system installed)"
fi
`;
  await writeFile(paths.rebootScript, script, { mode: 0o755 });
}

export interface StartAgentOptions {
  host: string;
  /** Runs the agent through this command, e.g. `['ip', 'netns', 'exec', 'NAME']`. */
  commandPrefix?: string[];
  /** Controller base URL (http://…); the agent gateway URL is derived from it. */
  controllerUrl: string;
  /** Another URL of the agent gateway to dial (e.g. wss:// through a TLS proxy). */
  gatewayUrl?: string;
  /**
   * A one-time enrollment token, written to the host's token file (mode 0600): the agent
   * enrolls with it unless it already did. Without one it must be enrolled already.
   */
  enrollmentToken?: string;
  /** The keys the agent trusts closures from (the controller's cache key); required for managed hosts. */
  trustedPublicKeys: string[];
  /** Health checks of the agent's own config (written to its config file). */
  healthChecks?: HealthCheck[];
  root: string;
  mode?: 'managed' | 'monitor';
  /**
   * Report as a Mac (monitor mode): the agent's darwin collector with the sandbox's Mac
   * programs (`writeMacCommands`) and the host's own home-manager profile.
   */
  mac?: boolean;
  /** Added to the agent's environment, which its activations and health checks inherit. */
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
  extraArgs?: string[];
  /** `--activation`; the agent picks `detached` here by itself (no systemd). */
  activation?: 'auto' | 'systemd-run' | 'detached';
  /** The agent program to run with node; the bundle by default (benchmarks compare others). */
  program?: string;
}

export interface AgentHandle {
  process: ManagedProcess;
  paths: SandboxHostPaths;
}

/** The WebSocket URL of a controller's agent gateway. */
export function agentGatewayUrl(controllerUrl: string): string {
  return `${controllerUrl.replace(/^http/, 'ws')}/api/v1/agent/ws`;
}

/**
 * The Node.js flags a program is shipped with: those in `node-flags` beside it (the bundled
 * agent's, which its package's launcher passes too), none for a program without the file.
 */
async function programNodeFlags(program: string): Promise<string[]> {
  const file = join(dirname(program), 'node-flags');
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).split(/\s+/).filter((flag) => flag !== '');
}

/** Starts a real agent process for a sandboxed host under `root`. */
export async function startAgent(options: StartAgentOptions): Promise<AgentHandle> {
  const paths = sandboxHostPaths(options.root);
  const program = options.program ?? AGENT_BUNDLE;
  if (!existsSync(program)) {
    throw new Error(`${program} is missing: run npm run build (or node scripts/bundle.mjs)`);
  }
  await mkdir(join(options.root, 'run'), { recursive: true });
  await mkdir(join(options.root, 'profiles'), { recursive: true });
  if (options.enrollmentToken !== undefined) {
    await writeFile(paths.enrollmentTokenFile, `${options.enrollmentToken}\n`, { mode: 0o600 });
  }
  if (options.healthChecks !== undefined) {
    await writeFile(paths.configFile, JSON.stringify({ healthChecks: options.healthChecks }));
  }
  await writeSandboxIdentity(paths, options.host);
  // Always the sandbox's own reboot: an agent started here runs as root on a real machine
  // (the demo, tests), and a reboot request must never reach that machine.
  await writeSandboxReboot(paths);
  if (options.mac) await writeMacCommands(paths.macCommandsDir);
  const mac = options.mac
    ? [
        '--darwin-commands-dir',
        paths.macCommandsDir,
        '--home-manager-profile',
        paths.homeManagerProfile,
      ]
    : [];
  const args = [
    ...(await programNodeFlags(program)),
    program,
    '--controller-url',
    options.gatewayUrl ?? agentGatewayUrl(options.controllerUrl),
    '--host',
    options.host,
    '--enrollment-token-file',
    paths.enrollmentTokenFile,
    ...options.trustedPublicKeys.flatMap((key) => ['--trusted-public-key', key]),
    ...(options.healthChecks !== undefined ? ['--config', paths.configFile] : []),
    '--mode',
    options.mac ? 'monitor' : (options.mode ?? 'managed'),
    ...mac,
    '--state-dir',
    paths.stateDir,
    '--profile',
    paths.profile,
    '--current-system-link',
    paths.currentSystemLink,
    '--booted-system-link',
    paths.bootedSystemLink,
    '--reconnect-max-seconds',
    '2',
    '--hostname-file',
    paths.hostnameFile,
    '--machine-id-file',
    paths.machineIdFile,
    ...(options.activation ? ['--activation', options.activation] : []),
    '--boot-id-file',
    paths.bootIdFile,
    '--reboot-command',
    paths.rebootScript,
    ...(options.extraArgs ?? []),
  ];
  // A prefix such as `ip netns exec NAME` runs the agent inside a network namespace.
  const [command = process.execPath, ...prefixArgs] = [
    ...(options.commandPrefix ?? []),
    process.execPath,
  ];
  const proc = new ManagedProcess(command, [...prefixArgs, ...args], {
    env: { ...sandboxNixEnv(), ...options.env },
    label: options.host,
    echo: options.echo ?? false,
    logFile: join(options.root, 'agent.log'),
  });
  return { process: proc, paths };
}
