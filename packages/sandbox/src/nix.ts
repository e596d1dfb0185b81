import { spawn } from 'node:child_process';

/**
 * Nix settings for sandboxed use on a machine without a network cache: flakes on, the
 * build sandbox off (the tiny systems use /bin/sh) and no substituters to wait for.
 */
export const SANDBOX_NIX_CONFIG = [
  'experimental-features = nix-command flakes',
  'sandbox = false',
  'substituters =',
  'connect-timeout = 5',
].join('\n');

/** The environment for Nix commands and agents in a sandbox. */
export function sandboxNixEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, NIX_CONFIG: SANDBOX_NIX_CONFIG };
}

/**
 * A complete environment for a Nix child process that a test or tool starts itself: the
 * search path, a home, and the sandbox's Nix settings; nothing else of this process's.
 */
export function sandboxChildEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    NIX_CONFIG: SANDBOX_NIX_CONFIG,
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (argument array, no shell) and collects its output. */
export function run(
  command: string,
  args: readonly string[],
  env = sandboxNixEnv(),
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The flake attribute of a host's system. */
export function toplevelAttr(flakeRef: string, host: string): string {
  return `${flakeRef}#nixosConfigurations.${host}.config.system.build.toplevel`;
}

/**
 * Builds a host's system with `nix build --no-link --json` (Nix 2.8 has no
 * `--print-out-paths`) and returns its store path.
 */
export async function buildHost(flakeRef: string, host: string): Promise<string> {
  const result = await run('nix', ['build', '--no-link', '--json', toplevelAttr(flakeRef, host)]);
  if (result.code !== 0) {
    throw new Error(`nix build of ${host} failed (exit ${result.code}):\n${result.stderr}`);
  }
  const parsed = JSON.parse(result.stdout) as { outputs: { out: string } }[];
  const out = parsed[0]?.outputs.out;
  if (!out) throw new Error(`nix build of ${host} printed no output path: ${result.stdout}`);
  return out;
}

/** Builds any flake installable (e.g. a sandboxed Mac's output) and returns its store path. */
export async function buildInstallable(installable: string): Promise<string> {
  const result = await run('nix', ['build', '--no-link', '--json', installable]);
  if (result.code !== 0) {
    throw new Error(`nix build of ${installable} failed (exit ${result.code}):\n${result.stderr}`);
  }
  const parsed = JSON.parse(result.stdout) as { outputs: { out: string } }[];
  const out = parsed[0]?.outputs.out;
  if (!out) throw new Error(`nix build of ${installable} printed no output path: ${result.stdout}`);
  return out;
}

/** True when `nix` is on PATH. */
export async function nixAvailable(): Promise<boolean> {
  try {
    return (await run('nix', ['--version'])).code === 0;
  } catch {
    return false;
  }
}

/**
 * Signs a path and its closure in this machine's store with a Nix secret key file, as the
 * controller signs every release it publishes (`nix store sign -r`).
 */
export async function signStorePath(storePath: string, secretKeyFile: string): Promise<void> {
  const result = await run('nix', [
    '--extra-experimental-features',
    'nix-command',
    'store',
    'sign',
    '--key-file',
    secretKeyFile,
    '-r',
    storePath,
  ]);
  if (result.code !== 0) {
    throw new Error(`nix store sign ${storePath} failed (exit ${result.code}):\n${result.stderr}`);
  }
}
