import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileExclusive, readJsonFile } from '@flotilla/runtime';
import type { Clock } from '@flotilla/runtime';
import { isProcessAlive, isProcessGroupAlive, type ProcessIdentity } from '../process-identity.js';
import type { ProcessRunner } from '@flotilla/runtime';
import {
  ActivationOutcome,
  switchToConfiguration,
  type ActivationHandle,
  type ActivationStart,
  type Activator,
  type FollowOptions,
} from './activator.js';
import { DirectoryWatch } from './directory-watch.js';
import { readLogLines } from './log-tail.js';
import { systemdRunCommand, unitName } from './systemd-run.js';

/** How `switch-to-configuration` is kept alive when the agent is not. */
export type ActivationMode = 'systemd-run' | 'detached';

export interface DetachedActivatorOptions {
  /**
   * `systemd-run`: the runner starts the activation as a transient systemd unit, which no
   * restart of the agent's own unit can touch. `detached`: the runner runs it directly,
   * in the runner's own session (hosts without systemd, and the sandbox).
   */
  mode: ActivationMode;
  /** Log, pid and result files live here, one folder per deployment. */
  dir: string;
  /** The agent's environment, without secrets; it carries LOCALE_ARCHIVE through. */
  env: Record<string, string>;
  currentSystemLink: string;
  profile: string;
  /** For `systemctl is-active` on a unit whose runner is gone. */
  runner: ProcessRunner;
  clock: Clock;
  /** The runner script (activation-runner.sh); the one beside the agent by default. */
  runnerScript?: string;
  /** The POSIX shell that runs the runner script; `/bin/sh` by default. */
  shell?: string;
  /**
   * How often the log, result and pid files are looked at without a change in their folder
   * (ms): a change wakes the follower at once, this finds a runner that died silently.
   */
  pollMs?: number;
  /** How long a runner may take to claim its activation before it counts as never started (ms). */
  claimGraceMs?: number;
}

/** Set to `true` by scripts/bundle.mjs in the bundled programs; undeclared otherwise. */
declare const __FLOTILLA_BUNDLE__: boolean | undefined;

/** The runner beside the bundled agent, or the source in the checkout (tsc does not copy it). */
const RUNNER_SCRIPT = fileURLToPath(
  typeof __FLOTILLA_BUNDLE__ !== 'undefined'
    ? new URL('./activation-runner.sh', import.meta.url)
    : new URL('../../src/activation-runner.sh', import.meta.url),
);

/** What the pid file holds: the runner, or the agent's mark that it gave up on it. */
type PidFileContent = ProcessIdentity | { abandoned: true };

/**
 * Starts each activation through a small runner (activation-runner.sh, run by `/bin/sh`) in
 * its own session, with output going to a log file and the exit code to a result file, and
 * follows it through those files, woken by every change in their folder. Because everything
 * is on disk, a restarted agent follows an activation started by its predecessor exactly
 * like its own.
 */
export class DetachedActivator implements Activator {
  constructor(private readonly options: DetachedActivatorOptions) {}

  plan(request: ActivationStart): ActivationHandle {
    const { currentSystemLink, profile, mode } = this.options;
    const dir = this.deploymentDir(request.deploymentId);
    const name = request.attempt > 1 ? `${request.step}-${request.attempt}` : request.step;
    const program = switchToConfiguration(request.storePath);
    const unit = mode === 'systemd-run' ? unitName(request.deploymentId, name) : null;
    return {
      name,
      logFile: join(dir, `${name}.log`),
      resultFile: join(dir, `${name}.result.json`),
      pidFile: join(dir, `${name}.pid.json`),
      unit,
      command:
        unit === null
          ? [program, request.action]
          : systemdRunCommand({
              unit,
              program,
              action: request.action,
              currentSystemLink,
              profile,
            }),
    };
  }

  async start(handle: ActivationHandle): Promise<void> {
    const { env, currentSystemLink, profile } = this.options;
    await mkdir(dirname(handle.logFile), { recursive: true, mode: 0o700 });
    // Leftovers of an earlier agent that used the same name would be taken for this run.
    await Promise.all(
      [handle.logFile, handle.resultFile, handle.pidFile].map((f) => rm(f, { force: true })),
    );
    const script = this.options.runnerScript ?? RUNNER_SCRIPT;
    const log = openSync(handle.logFile, 'a', 0o600);
    try {
      // The paths and the command are the script's arguments: data, never script text.
      const child = spawn(
        this.options.shell ?? '/bin/sh',
        [script, handle.pidFile, handle.resultFile, ...handle.command],
        {
          // Its own session: signals to the agent's process group do not reach it.
          detached: true,
          stdio: ['ignore', log, log],
          env: {
            ...env,
            // What nixos-rebuild passes; the bootloader is only installed on request.
            NIXOS_INSTALL_BOOTLOADER: '0',
            // Real NixOS ignores these; sandboxed test systems use them to find their host.
            FLOTILLA_CURRENT_SYSTEM_LINK: currentSystemLink,
            FLOTILLA_PROFILE: profile,
          },
        },
      );
      // A failed spawn shows up as a runner that never claims its pid file.
      child.on('error', () => {});
      child.unref();
    } finally {
      closeSync(log);
    }
  }

  async follow(handle: ActivationHandle, options: FollowOptions): Promise<ActivationOutcome> {
    const { clock } = this.options;
    const pollMs = this.options.pollMs ?? 1000;
    let offset = options.offset;
    const forward = async (final: boolean) => {
      for (;;) {
        const chunk = await readLogLines(handle.logFile, offset, final);
        if (chunk.offset === offset) return;
        offset = chunk.offset;
        await options.onLines(chunk.lines, offset);
      }
    };
    // Watched before the first look, so no change between a look and the wait is missed.
    const changes = new DirectoryWatch(dirname(handle.resultFile));
    try {
      for (;;) {
        await forward(false);
        const result = await this.readResult(handle);
        if (result !== null) {
          await forward(true);
          return result;
        }
        const lost = await this.lostReason(handle, options.startedAt);
        if (lost !== null) {
          // The runner may have written its result just before it exited.
          const late = await this.readResult(handle);
          await forward(true);
          return late ?? { exitCode: null, signal: null, spawnError: null, lost };
        }
        // Woken by the runner's files at once; the timer is for a runner that died
        // without a word, and for file systems that cannot be watched.
        await changes.wait(clock, pollMs, options.signal);
      }
    } finally {
      changes.close();
    }
  }

  async discard(deploymentId: string): Promise<void> {
    await rm(this.deploymentDir(deploymentId), { recursive: true, force: true });
  }

  private deploymentDir(deploymentId: string): string {
    // Deployment ids are free-form; base64url makes any of them a safe folder name.
    return join(this.options.dir, Buffer.from(deploymentId, 'utf8').toString('base64url'));
  }

  private async readResult(handle: ActivationHandle): Promise<ActivationOutcome | null> {
    const data = await readJsonFile(handle.resultFile);
    if (data === undefined) return null;
    const parsed = ActivationOutcome.safeParse(data);
    if (parsed.success) return parsed.data;
    return { exitCode: null, signal: null, spawnError: null, lost: 'unreadable result file' };
  }

  /**
   * Null while the activation may still end with a recorded result; otherwise why it
   * never will. A runner that has not claimed its pid file in time is marked abandoned,
   * which keeps it from starting the activation later.
   */
  private async lostReason(handle: ActivationHandle, startedAt: number): Promise<string | null> {
    const content = (await readJsonFile(handle.pidFile)) as PidFileContent | undefined;
    if (content === undefined) {
      const waited = this.options.clock.now().getTime() - startedAt;
      if (waited < (this.options.claimGraceMs ?? 10_000)) return null;
      const mark: PidFileContent = { abandoned: true };
      if (await createFileExclusive(handle.pidFile, JSON.stringify(mark))) {
        return 'the activation runner never started';
      }
      return null; // The runner claimed it just now.
    }
    if ('abandoned' in content) return 'the activation runner never started';
    if (await isProcessAlive(content)) return null;
    // The runner is gone without a result (e.g. killed with its service). Its activation
    // may still run: in the runner's process group, or as a systemd unit.
    if (await isProcessGroupAlive(content)) return null;
    if (handle.unit !== null && (await this.unitActive(handle.unit))) return null;
    return 'the activation runner ended without recording an exit code';
  }

  private async unitActive(unit: string): Promise<boolean> {
    const result = await this.options.runner.run('systemctl', ['is-active', '--quiet', unit], {
      env: this.options.env,
      timeoutMs: 10_000,
    });
    return result.exitCode === 0;
  }
}
