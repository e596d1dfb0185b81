// Test support, not shipped behaviour: the real controller in this process, listening on
// loopback, on a SQLite file in a temporary directory, with a manual clock; the CLI runs
// in-process against it over HTTP. Only the binary cache's signing key and the pipeline's
// reaction to new revisions are stood in: nothing here builds, so no Nix is needed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, loadConfig } from '@flotilla/controller';
import { totpCode } from '@flotilla/controller/testing';
import { ManualClock } from '@flotilla/runtime';
import { pino } from 'pino';
import { run } from './cli.js';
import type { SecretInput } from './command.js';
import type { CliEnv } from './context.js';
import type { CliRun } from './test-controller.js';

/** What one in-process run printed, and the prompts it showed at the stand-in terminal. */
export interface LiveRun extends CliRun {
  prompts: string[];
}

/** How standard input looks to a run: piped text, or a terminal answering each prompt. */
export type TestInput =
  { piped: string } | { terminal: (prompt: string, stdout: string) => string };

/** A controller of its own for one test file; `stop` removes everything it wrote. */
export class LiveController {
  private constructor(
    readonly dir: string,
    readonly controller: Controller,
    readonly clock: ManualClock,
    readonly url: string,
  ) {}

  static async start(): Promise<LiveController> {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-cli-'));
    const config = loadConfig(['--state-dir', join(dir, 'state')], {});
    const clock = new ManualClock('2026-03-02T10:00:00.000Z');
    const controller = await Controller.create({
      config,
      logger: pino({ level: 'silent' }),
      clock,
      revisionPipeline: { onRevision: () => Promise.resolve() },
      parts: {
        cache: {
          key: { name: 'test-1', secretKeyFile: '/nonexistent', publicKey: 'test-1:AAAA' },
          publisher: { publish: () => Promise.resolve() },
        },
      },
    });
    const url = await controller.listen('127.0.0.1', 0);
    return new LiveController(dir, controller, clock, url);
  }

  /** The contexts file every run of this controller's CLI uses. */
  get contextFile(): string {
    return join(this.dir, 'contexts.json');
  }

  /** The one-time setup token file the controller wrote at its first start. */
  get setupTokenFile(): string {
    return join(this.dir, 'state', 'setup-token');
  }

  /**
   * Runs `flotilla ARGV` in-process: the contexts file in the temp directory, `ada` logged
   * in to this machine `testbox`, times in UTC at the controller's clock. With `--url`
   * left out, the CLI finds the controller in the contexts file (or `env`).
   */
  async flotilla(
    argv: readonly string[],
    options: { input?: TestInput; env?: CliEnv } = {},
  ): Promise<LiveRun> {
    const out: string[] = [];
    const err: string[] = [];
    const prompts: string[] = [];
    const input = options.input ?? { piped: '' };
    const stdin: SecretInput =
      'piped' in input
        ? {
            isTerminal: false,
            readAll: () => Promise.resolve(input.piped),
            readHidden: () => Promise.reject(new Error('not a terminal')),
          }
        : {
            isTerminal: true,
            readAll: () => Promise.reject(new Error('a terminal is not read to its end')),
            readHidden: (prompt) => {
              prompts.push(prompt);
              return Promise.resolve(input.terminal(prompt, out.join('\n')));
            },
          };
    const code = await run({
      argv,
      env: { FLOTILLA_CONTEXT_FILE: this.contextFile, TZ: 'UTC', ...options.env },
      homedir: this.dir,
      hostname: 'testbox',
      username: 'ada',
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      now: () => this.clock.now(),
      sleep: () => Promise.resolve(),
      stdin,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n'), prompts };
  }

  /**
   * The code an authenticator app holding `secret` shows. The clock first moves on to the
   * next 30-second step, because the controller takes each code once.
   */
  totp(secret: string): string {
    this.clock.advance(30_000);
    return totpCode(secret, this.clock.now());
  }

  async stop(): Promise<void> {
    await this.controller.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
