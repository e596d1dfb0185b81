import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunOptions {
  /** Extra environment variables, added to the controller's own environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kills the whole process group after this many milliseconds. */
  timeoutMs?: number;
  /** Called for every stdout/stderr line as it arrives (for live logs). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting kills the process group (cancel). */
  signal?: AbortSignal;
  /** Data written to stdin, which is then closed. */
  input?: string;
  /**
   * Keep only the last this-many characters of each output stream in the result (long
   * build logs are streamed through `onLine`; the tail is where the error is).
   */
  keepTailChars?: number;
}

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

/**
 * Runs a program with an argument array (never a shell) in its own process group, so a
 * timeout or cancel also stops everything it started (nix builders, ssh, git helpers).
 * Output is kept in full; callers that stream long output should cap what they store.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    // SIGTERM first: nix-store then stops its builders and removes its temporary build
    // directories; SIGKILL follows for anything that does not stop in time.
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = () => {
      signalGroup('SIGTERM');
      killTimer ??= setTimeout(() => signalGroup('SIGKILL'), 5000);
      killTimer.unref();
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const out = child.stdout;
    const err = child.stderr;
    if (!out || !err) throw new Error('spawned without output pipes');
    out.setEncoding('utf8');
    err.setEncoding('utf8');
    const keep = options.keepTailChars;
    const append = (buffer: string, chunk: string) => {
      const joined = buffer + chunk;
      return keep !== undefined && joined.length > keep * 2 ? joined.slice(-keep) : joined;
    };
    out.on('data', (chunk: string) => (stdout = append(stdout, chunk)));
    err.on('data', (chunk: string) => (stderr = append(stderr, chunk)));
    if (options.onLine) {
      const onLine = options.onLine;
      createInterface({ input: out }).on('line', (line) => onLine(line, 'stdout'));
      createInterface({ input: err }).on('line', (line) => onLine(line, 'stderr'));
    }
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      const tail = (text: string) => (keep !== undefined ? text.slice(-keep) : text);
      resolve({ code, stdout: tail(stdout), stderr: tail(stderr), timedOut, aborted });
    });
  });
}
