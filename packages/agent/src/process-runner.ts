import { spawn } from 'node:child_process';
import { LineSplitter } from './line-splitter.js';

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  /** The complete environment of the child; the runner adds nothing. */
  env: Record<string, string>;
  /** Called for every output line as it arrives. */
  onLine?: (stream: OutputStream, line: string) => void;
  /** Kill the child (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Keep stdout (up to 1 MiB) in the result, for commands whose output is data. */
  captureStdout?: boolean;
}

export interface RunResult {
  /** Null when the child was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the program could not be started (e.g. it does not exist); null when it ran. */
  spawnError: string | null;
  /** It was killed because it ran longer than `timeoutMs`. */
  timedOut?: boolean;
  stdout: string;
  /** The last lines of stderr, for error messages. */
  stderrTail: string[];
}

/** Runs programs with an argument array; never through a shell. */
export interface ProcessRunner {
  run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult>;
}

const STDOUT_CAPTURE_LIMIT = 1024 * 1024;
const STDERR_TAIL_LINES = 20;
/**
 * How long to wait for output to drain once the child has exited. A child that started a
 * daemon can leave it holding our pipes open forever; the exit code is what matters.
 */
const DRAIN_GRACE_MS = 2000;

/** Describes how a command ended, for log lines and error messages. */
export function describeExit(
  result: Pick<RunResult, 'exitCode' | 'signal' | 'spawnError'>,
): string {
  if (result.spawnError !== null) return `could not be started: ${result.spawnError}`;
  if (result.signal !== null) return `was killed by ${result.signal}`;
  return `exited with code ${result.exitCode ?? 'unknown'}`;
}

/** The real runner, on `child_process.spawn`. */
export class ChildProcessRunner implements ProcessRunner {
  run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    return new Promise((resolve) => {
      let stdout = '';
      const stderrTail: string[] = [];
      const child = spawn(command, args, {
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out = new LineSplitter((line) => {
        if (options.captureStdout && stdout.length < STDOUT_CAPTURE_LIMIT) stdout += line + '\n';
        options.onLine?.('stdout', line);
      });
      const err = new LineSplitter((line) => {
        stderrTail.push(line);
        if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
        options.onLine?.('stderr', line);
      });
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));

      let settled = false;
      let timedOut = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (result: Omit<RunResult, 'stdout' | 'stderrTail'>) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        out.end();
        err.end();
        resolve({ ...result, stdout, stderrTail, timedOut });
      };
      if (options.timeoutMs !== undefined) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs),
        );
      }
      child.on('error', (error) =>
        finish({ exitCode: null, signal: null, spawnError: error.message }),
      );
      child.on('exit', (exitCode, signal) => {
        timers.push(
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            finish({ exitCode, signal, spawnError: null });
          }, DRAIN_GRACE_MS),
        );
      });
      child.on('close', (exitCode, signal) => finish({ exitCode, signal, spawnError: null }));
    });
  }
}
