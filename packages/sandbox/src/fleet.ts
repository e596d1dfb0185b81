import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxNixEnv } from './nix.js';
import { ManagedProcess } from './process.js';

const CONTROLLER_MAIN = fileURLToPath(new URL('../../controller/dist/main.js', import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL('../../agent/dist/main.js', import.meta.url));

export interface ControllerHandle {
  process: ManagedProcess;
  url: string;
  adminToken: string;
  stateDir: string;
}

export interface StartControllerOptions {
  stateDir: string;
  listen?: string;
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
  logFile?: string;
  extraArgs?: string[];
}

/** Starts a real controller process and waits until it listens. */
export async function startController(options: StartControllerOptions): Promise<ControllerHandle> {
  await mkdir(options.stateDir, { recursive: true });
  const proc = new ManagedProcess(
    process.execPath,
    [
      CONTROLLER_MAIN,
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
  const adminToken = (await readFile(join(options.stateDir, 'admin-token'), 'utf8')).trim();
  return { process: proc, url, adminToken, stateDir: options.stateDir };
}

export interface SandboxHostPaths {
  root: string;
  profile: string;
  currentSystemLink: string;
  bootedSystemLink: string;
  stateDir: string;
  tokenFile: string;
}

/** Where a sandboxed host keeps what a real NixOS host keeps in /nix/var and /run. */
export function sandboxHostPaths(root: string): SandboxHostPaths {
  return {
    root,
    profile: join(root, 'profiles', 'system'),
    currentSystemLink: join(root, 'run', 'current-system'),
    bootedSystemLink: join(root, 'run', 'booted-system'),
    stateDir: join(root, 'agent'),
    tokenFile: join(root, 'agent-token'),
  };
}

export interface StartAgentOptions {
  host: string;
  /** Controller base URL (http://…); the agent gateway URL is derived from it. */
  controllerUrl: string;
  token: string;
  root: string;
  mode?: 'managed' | 'monitor';
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
  extraArgs?: string[];
}

export interface AgentHandle {
  process: ManagedProcess;
  paths: SandboxHostPaths;
}

/** The WebSocket URL of a controller's agent gateway. */
export function agentGatewayUrl(controllerUrl: string): string {
  return `${controllerUrl.replace(/^http/, 'ws')}/api/v1/agent/ws`;
}

/** Starts a real agent process for a sandboxed host under `root`. */
export async function startAgent(options: StartAgentOptions): Promise<AgentHandle> {
  const paths = sandboxHostPaths(options.root);
  await mkdir(join(options.root, 'run'), { recursive: true });
  await mkdir(join(options.root, 'profiles'), { recursive: true });
  await writeFile(paths.tokenFile, `${options.token}\n`, { mode: 0o600 });
  const args = [
    AGENT_MAIN,
    '--controller-url',
    agentGatewayUrl(options.controllerUrl),
    '--host',
    options.host,
    '--token-file',
    paths.tokenFile,
    '--mode',
    options.mode ?? 'managed',
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
    ...(options.extraArgs ?? []),
  ];
  const proc = new ManagedProcess(process.execPath, args, {
    env: { ...sandboxNixEnv(), ...options.env },
    label: options.host,
    echo: options.echo ?? false,
    logFile: join(options.root, 'agent.log'),
  });
  return { process: proc, paths };
}
