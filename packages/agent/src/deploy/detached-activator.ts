import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileExclusive, isErrorCode } from '@flotilla/runtime';
import type { Clock } from '@flotilla/runtime';
import {
  isProcessAlive,
  isProcessGroupAlive,
  isRunningWithArguments,
  type ProcessIdentity,
} from '../process-identity.js';
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
 * A runner's file as read once: not there, there but not (yet) parsable JSON, or its value.
 * The runner writes its pid and result files in place (one write each, see
 * activation-runner.sh), so a file may be read empty or cut short while it is written.
 */
type FileRead = { state: 'missing' } | { state: 'incomplete' } | { state: 'parsed'; data: unknown };

/** What an outcome is when the runner's result will never come. */
function lostOutcome(lost: string): ActivationOutcome {
  return { exitCode: null, signal: null, spawnError: null, lost };
}

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
        if (result !== null && result !== 'incomplete') {
          await forward(true);
          return result;
        }
        // A result that does not parse yet is being written: the write wakes us, and
        // lostReason is null as long as the runner (or what it started) lives.
        const lost = await this.lostReason(handle, options.startedAt);
        if (lost !== null) {
          // The runner may have written its result just before it exited; one it left
          // unparsable is final now that it is gone.
          const late = await this.readResult(handle);
          await forward(true);
          if (late === 'incomplete') return lostOutcome('unreadable result file');
          return late ?? lostOutcome(lost);
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

  /**
   * The outcome once the result file is complete; null while there is none, `incomplete`
   * while it does not parse. The runner writes it in place with one write(2) of a JSON
   * object, so a reader may find it empty or (a short write) cut short; a JSON object cut
   * anywhere before its closing brace never parses, so a file that parses is the whole
   * outcome, never a different one read half-written. Whether `incomplete` is final is for
   * the caller to tell, from whether the runner is gone.
   */
  private async readResult(
    handle: ActivationHandle,
  ): Promise<ActivationOutcome | 'incomplete' | null> {
    const read = await readRunnerFile(handle.resultFile);
    if (read.state === 'missing') return null;
    if (read.state === 'incomplete') return 'incomplete';
    const parsed = ActivationOutcome.safeParse(read.data);
    if (parsed.success) return parsed.data;
    return lostOutcome('unreadable result file');
  }

  /**
   * Null while the activation may still end with a recorded result; otherwise why it
   * never will. A runner that has not claimed its pid file in time is marked abandoned,
   * which keeps it from starting the activation later.
   */
  private async lostReason(handle: ActivationHandle, startedAt: number): Promise<string | null> {
    const read = await readRunnerFile(handle.pidFile);
    const content = read.state === 'parsed' ? pidFileContent(read.data) : null;
    if (content === null) {
      const waited = this.options.clock.now().getTime() - startedAt;
      if (waited < (this.options.claimGraceMs ?? 10_000)) return null;
      if (read.state === 'missing') {
        const mark: PidFileContent = { abandoned: true };
        if (await createFileExclusive(handle.pidFile, JSON.stringify(mark))) {
          return 'the activation runner never started';
        }
        return null; // The runner claimed it just now.
      }
      // Created by the runner (the agent's mark is always complete) but not written: it is
      // between its open and its write, or was killed there, before starting anything. It
      // cannot be marked any more; a runner still found by its arguments may write it yet.
      if (await isRunningWithArguments([handle.pidFile, handle.resultFile])) return null;
      // None runs: whatever the file holds now is all it will ever hold. Written just
      // before the runner went, it is followed by the rules below on the next look.
      const again = await readRunnerFile(handle.pidFile);
      if (again.state === 'parsed' && pidFileContent(again.data) !== null) return null;
      return 'the activation runner never started';
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

/** Reads a file the runner writes in place; only a missing file counts as missing. */
async function readRunnerFile(path: string): Promise<FileRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return isErrorCode(error, 'ENOENT') ? { state: 'missing' } : { state: 'incomplete' };
  }
  try {
    return { state: 'parsed', data: JSON.parse(text) as unknown };
  } catch {
    return { state: 'incomplete' };
  }
}

/** The pid file's content when it is one of the two it may hold; null otherwise. */
function pidFileContent(data: unknown): PidFileContent | null {
  if (typeof data !== 'object' || data === null) return null;
  if ('abandoned' in data && data.abandoned === true) return { abandoned: true };
  if ('pid' in data && typeof data.pid === 'number') return data as ProcessIdentity;
  return null;
}
