import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './line-splitter.js';

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  /**
   * The complete environment of the child: the runner adds nothing, so a child never
   * inherits secrets of its parent by accident. Undefined values are dropped.
   */
  env: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Called for every output line as it arrives (for live logs). */
  onLine?: (stream: OutputStream, line: string) => void;
  /** Stops the child's process group after this many milliseconds. */
  timeoutMs?: number;
  /** Aborting stops the child's process group (cancel). */
  signal?: AbortSignal;
  /** Written to stdin, which is then closed; stdin is /dev/null otherwise. */
  input?: string;
  /** Keep stdout in the result, up to `stdoutLimitBytes`, for commands whose output is data. */
  captureStdout?: boolean;
  /** Default 16 MiB; past it stdout is cut (and `stdoutTruncated` set). */
  stdoutLimitBytes?: number;
  /** How much of the end of stderr the result keeps, in characters. Default 64 KiB. */
  stderrTailChars?: number;
}

export interface RunResult {
  /** Null when the child was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the program could not be started (e.g. it does not exist); null when it ran. */
  spawnError: string | null;
  /** It was stopped because it ran longer than `timeoutMs`. */
  timedOut: boolean;
  /** It was stopped because `signal` fired. */
  aborted: boolean;
  stdout: string;
  stdoutTruncated: boolean;
  /** The end of stderr (see `stderrTailChars`): where the error usually is. */
  stderr: string;
  /** The last lines of stderr, for one-line error messages. */
  stderrTail: string[];
}

/** Runs programs with an argument array; never through a shell. */
export interface ProcessRunner {
  run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult>;
}

const STDERR_TAIL_LINES = 20;
const DEFAULT_STDOUT_LIMIT = 16 * 1024 * 1024;
const DEFAULT_STDERR_TAIL = 64 * 1024;
/** SIGTERM first, so Nix can stop its builders and remove its build directories; then SIGKILL. */
const KILL_GRACE_MS = 5000;
/**
 * How long to wait for output to drain once the child has exited. A child that started a
 * daemon can leave it holding our pipes open forever; the exit code is what matters.
 */
const DRAIN_GRACE_MS = 2000;

/** Describes how a command ended, for log lines and error messages. */
export function describeExit(
  result: Pick<RunResult, 'exitCode' | 'signal' | 'spawnError'> & { timedOut?: boolean },
): string {
  if (result.spawnError !== null) return `could not be started: ${result.spawnError}`;
  if (result.timedOut) return 'timed out and was stopped';
  if (result.signal !== null) return `was killed by ${result.signal}`;
  return `exited with code ${result.exitCode ?? 'unknown'}`;
}

/** Drops undefined values: what `spawn` gets is exactly what the caller built. */
function cleanEnv(env: RunOptions['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * The real runner, on `child_process.spawn`. Each child runs in its own process group, so
 * a timeout or cancel also stops everything it started (Nix builders, ssh, git helpers).
 */
export class ChildProcessRunner implements ProcessRunner {
  run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    return new Promise((resolve) => {
      const stdoutLimit = options.stdoutLimitBytes ?? DEFAULT_STDOUT_LIMIT;
      const stderrKeep = options.stderrTailChars ?? DEFAULT_STDERR_TAIL;
      let stdout = '';
      let stdoutTruncated = false;
      let stderr = '';
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: cleanEnv(options.env),
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
      const { stdout: outPipe, stderr: errPipe } = child;
      if (!outPipe || !errPipe) throw new Error('spawned without output pipes');
      const out = new LineSplitter((line) => options.onLine?.('stdout', line));
      const err = new LineSplitter((line) => options.onLine?.('stderr', line));
      // A character's bytes may arrive in two chunks: the decoder keeps them together.
      const stdoutText = new StringDecoder('utf8');
      const captureStdout = (text: string) => {
        if (!options.captureStdout || stdoutTruncated) return;
        if (stdout.length + text.length > stdoutLimit) {
          stdout += text.slice(0, stdoutLimit - stdout.length);
          stdoutTruncated = true;
        } else stdout += text;
      };
      outPipe.on('data', (chunk: Buffer) => {
        captureStdout(stdoutText.write(chunk));
        if (options.onLine) out.push(chunk);
      });
      errPipe.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.length > stderrKeep * 2) stderr = stderr.slice(-stderrKeep);
        if (options.onLine) err.push(chunk);
      });
      if (options.input !== undefined) child.stdin?.end(options.input);

      let settled = false;
      let timedOut = false;
      let aborted = false;
      const timers: NodeJS.Timeout[] = [];
      const signalGroup = (signal: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is already gone.
        }
      };
      let killing = false;
      const stop = () => {
        if (killing) return;
        killing = true;
        signalGroup('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
        timer.unref();
        timers.push(timer);
      };
      const onAbort = () => {
        aborted = true;
        stop();
      };
      const finish = (result: Pick<RunResult, 'exitCode' | 'signal' | 'spawnError'>) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        captureStdout(stdoutText.end());
        options.signal?.removeEventListener('abort', onAbort);
        if (options.onLine) {
          out.end();
          err.end();
        }
        const tail = stderr.slice(-stderrKeep);
        resolve({
          ...result,
          timedOut,
          aborted,
          stdout,
          stdoutTruncated,
          stderr: tail,
          stderrTail: tail
            .split('\n')
            .map((line) => line.replace(/\r$/, ''))
            .filter((line, index, all) => line !== '' || index < all.length - 1)
            .slice(-STDERR_TAIL_LINES),
        });
      };
      if (options.timeoutMs !== undefined) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs),
        );
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      child.on('error', (error) =>
        finish({ exitCode: null, signal: null, spawnError: error.message }),
      );
      child.on('exit', (exitCode, signal) => {
        timers.push(
          setTimeout(() => {
            outPipe.destroy();
            errPipe.destroy();
            finish({ exitCode, signal, spawnError: null });
          }, DRAIN_GRACE_MS),
        );
      });
      child.on('close', (exitCode, signal) => finish({ exitCode, signal, spawnError: null }));
    });
  }
}

/** A result with the given fields and neutral defaults (for stand-in runners in tests). */
export function runResultOf(fields: Partial<RunResult>): RunResult {
  return {
    exitCode: 0,
    signal: null,
    spawnError: null,
    timedOut: false,
    aborted: false,
    stdout: '',
    stdoutTruncated: false,
    stderr: '',
    stderrTail: [],
    ...fields,
  };
}

/** One shared runner: it holds no state. */
export const processRunner: ProcessRunner = new ChildProcessRunner();
