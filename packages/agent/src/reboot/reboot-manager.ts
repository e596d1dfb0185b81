import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ErrorBody,
  type HostMode,
  type RebootRequest,
  type RebootResult,
} from '@flotilla/protocol';
import * as z from 'zod';
import { readJsonFile, writeFileAtomic } from '@flotilla/runtime';
import type { Logger } from '@flotilla/runtime';
import { describeExit, type ProcessRunner } from '@flotilla/runtime';

/** A reboot asked for and not yet reported, kept on disk because the agent dies with it. */
const PendingReboot = z.object({
  requestId: z.string().min(1).max(64),
  /** The boot id when the reboot was asked for; a different one proves the reboot. */
  bootIdBefore: z.string(),
  requestedAt: z.string(),
  /** Set once the outcome is known; removed after it was sent. */
  result: z.object({ ok: z.boolean(), error: ErrorBody.nullable() }).nullable(),
});
type PendingReboot = z.infer<typeof PendingReboot>;

export interface RebootManagerOptions {
  mode: HostMode;
  /** The state file (JSON) of a pending reboot. */
  stateFile: string;
  readBootId(): Promise<string | null>;
  /** Program and arguments, e.g. ["systemctl", "reboot"]; never run through a shell. */
  command: readonly string[];
  runner: ProcessRunner;
  env: Record<string, string>;
  /** Sends when connected; false otherwise (the result is then sent after the next welcome). */
  send(message: RebootResult): boolean;
  /** The deployment in progress, if any: a reboot then is refused. */
  activeDeployment(): string | null;
  logger: Logger;
}

/** A reboot command that neither exits nor reboots within this long has failed. */
const COMMAND_TIMEOUT_MS = 5 * 60_000;

/**
 * Reboots the host on request and reports when it is back: the request and the boot id
 * before it are written to disk, the reboot command runs, and the agent that sees a
 * different boot id (at its next start, or right after the command returned where a
 * "reboot" does not kill the agent) sends `reboot.result`.
 */
export class RebootManager {
  private pending: PendingReboot | null = null;

  constructor(private readonly options: RebootManagerOptions) {}

  /** Reads a pending reboot left by the agent that ran before this boot; call before connecting. */
  async load(): Promise<void> {
    const data = await readJsonFile(this.options.stateFile);
    if (data === undefined) return;
    const parsed = PendingReboot.safeParse(data);
    if (!parsed.success) {
      this.options.logger.warn('ignoring an unreadable reboot state file', {
        file: this.options.stateFile,
      });
      await rm(this.options.stateFile, { force: true });
      return;
    }
    this.pending = parsed.data;
    await this.check();
  }

  async handle(request: RebootRequest): Promise<void> {
    const { logger, mode, command } = this.options;
    const refuse = (error: ErrorBody) => {
      logger.warn(`refusing reboot: ${error.message}`, { requestId: request.requestId });
      this.options.send({ type: 'reboot.result', requestId: request.requestId, ok: false, error });
    };
    if (mode === 'monitor') {
      return refuse({
        code: 'host_not_managed',
        message: 'this host is monitor-only (mode monitor)',
      });
    }
    const deployment = this.options.activeDeployment();
    if (deployment !== null) {
      return refuse({
        code: 'agent_busy',
        message: `deployment ${deployment} is still in progress`,
      });
    }
    if (this.pending?.requestId === request.requestId) {
      logger.info('reboot already requested; ignoring the repeat', {
        requestId: request.requestId,
      });
      return;
    }
    const bootIdBefore = await this.options.readBootId();
    if (bootIdBefore === null) {
      return refuse({
        code: 'reboot_failed',
        message: 'cannot read the boot id, so a reboot could not be noticed',
      });
    }
    await this.save({
      requestId: request.requestId,
      bootIdBefore,
      requestedAt: new Date().toISOString(),
      result: null,
    });
    logger.info('rebooting', { requestId: request.requestId, command: command.join(' ') });
    const [program = 'reboot', ...args] = command;
    const run = await this.options.runner.run(program, args, {
      env: this.options.env,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (run.exitCode !== 0) {
      const lastError = run.stderrTail.filter((line) => line.trim() !== '').at(-1);
      const message = `reboot command "${command.join(' ')}" ${describeExit(run)}${lastError ? `: ${lastError.trim()}` : ''}`;
      return this.settle({ ok: false, error: { code: 'reboot_failed', message } });
    }
    // A real reboot kills the agent about now; a simulated one has already happened.
    await this.check();
  }

  /** Reports the reboot if the boot id changed; call at every facts refresh. */
  async check(): Promise<void> {
    if (this.pending === null || this.pending.result !== null) return this.flush();
    const bootId = await this.options.readBootId();
    if (bootId !== null && bootId !== this.pending.bootIdBefore) {
      this.options.logger.info('the host has rebooted', {
        requestId: this.pending.requestId,
        bootId,
      });
      await this.settle({ ok: true, error: null });
    }
  }

  /** Sends a known outcome; call after every welcome. */
  async flush(): Promise<void> {
    const pending = this.pending;
    if (pending === null || pending.result === null) return;
    const sent = this.options.send({
      type: 'reboot.result',
      requestId: pending.requestId,
      ok: pending.result.ok,
      error: pending.result.error,
    });
    if (!sent || this.pending !== pending) return;
    this.pending = null;
    await rm(this.options.stateFile, { force: true });
  }

  private async settle(result: NonNullable<PendingReboot['result']>): Promise<void> {
    if (this.pending === null) return;
    await this.save({ ...this.pending, result });
    await this.flush();
  }

  private async save(pending: PendingReboot): Promise<void> {
    this.pending = pending;
    await mkdir(dirname(this.options.stateFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.options.stateFile, JSON.stringify(pending));
  }
}
