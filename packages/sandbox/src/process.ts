import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Every output line is also appended here. */
  logFile?: string;
  /** Prefix for lines echoed to this process's stderr (when `echo` is on). */
  label?: string;
  echo?: boolean;
}

type LineWaiter = { test: (line: string) => boolean; resolve: (line: string) => void };

/**
 * A child process whose output lines are kept so tests can wait for them. Started with an
 * argument array (never a shell) in its own process group, so stopping it stops its children.
 */
export class ManagedProcess {
  readonly lines: string[] = [];
  private waiters: LineWaiter[] = [];
  private readonly child: ChildProcess;
  private readonly log: WriteStream | undefined;
  readonly exited: Promise<number | null>;

  constructor(command: string, args: readonly string[], options: StartOptions = {}) {
    this.log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    this.child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => this.onLine(line, options));
    }
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private onLine(line: string, options: StartOptions): void {
    this.lines.push(line);
    this.log?.write(`${line}\n`);
    if (options.echo) process.stderr.write(`[${options.label ?? 'proc'}] ${line}\n`);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitForLine(test: RegExp | ((line: string) => boolean), timeoutMs = 30_000): Promise<string> {
    const fn = typeof test === 'function' ? test : (line: string) => test.test(line);
    const seen = this.lines.find(fn);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${String(test)}; last lines:\n${this.lines.slice(-15).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const waiter: LineWaiter = {
        test: fn,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends a signal to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 5_000): Promise<number | null> {
    if (this.running) {
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.log?.end();
    return this.exited;
  }

  /** SIGKILL at once, as in a crash. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}
