import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeployResult,
  type AgentMessage,
  type DeployConfirmRequest,
  type DeployLog,
  type DeployProgress,
} from '@flotilla/protocol';
import { writeFileAtomic } from '@flotilla/runtime';
import type { Logger } from '@flotilla/runtime';
import type { DeploymentReporter } from './deployment-run.js';

/** The connection as the outbox sees it. */
export interface MessageSink {
  /** True between the controller's welcome and the end of that connection. */
  readonly isReady: boolean;
  /** Counts connections, so the outbox knows what was sent on an earlier one. */
  readonly generation: number;
  /** Sends when ready and returns true; returns false, sending nothing, when not ready. */
  send(message: AgentMessage): boolean;
}

export interface DeploymentOutboxOptions {
  sink: MessageSink;
  /** Results are kept here as JSON until sent, so they survive a restart of the agent. */
  resultsDir: string;
  logger: Logger;
  /** Progress and log messages kept while disconnected; older ones are dropped first. */
  maxQueuedMessages?: number;
}

interface Entry {
  message: DeployProgress | DeployLog | DeployResult;
  /** The file holding a result until it is sent. */
  file: string | null;
  /** The connection generation it was last sent on. */
  sentOn: number | null;
}

/**
 * Sends deployment messages in order and never loses a result: results are written to
 * disk first and removed only when the controller acknowledges them (`deploy.result.ack`);
 * an unacknowledged result is sent again on every new connection. Progress and log
 * messages wait in memory (bounded) while the controller is unreachable.
 */
export class DeploymentOutbox implements DeploymentReporter {
  private queue: Entry[] = [];
  /** Messages dropped since the controller was last reachable; warned about once. */
  private dropped = 0;

  constructor(private readonly options: DeploymentOutboxOptions) {}

  /** Loads results left by an earlier run of the agent; call once before connecting. */
  async load(): Promise<void> {
    const { resultsDir, logger } = this.options;
    await mkdir(resultsDir, { recursive: true, mode: 0o700 });
    const names = (await readdir(resultsDir)).filter((name) => name.endsWith('.json')).sort();
    for (const name of names) {
      const file = join(resultsDir, name);
      const parsed = DeployResult.safeParse(await readJson(file));
      if (!parsed.success) {
        logger.warn('ignoring an unreadable stored deployment result', { file });
        continue;
      }
      logger.info('found an undelivered deployment result', {
        deploymentId: parsed.data.deploymentId,
      });
      this.queue.push({ message: parsed.data, file, sentOn: null });
    }
  }

  /** Results the controller has not acknowledged yet. */
  get pendingResults(): number {
    return this.queue.filter((entry) => entry.message.type === 'deploy.result').length;
  }

  /** Ids of the results not acknowledged yet, oldest first (for the hello). */
  unacknowledgedIds(): string[] {
    return this.queue.flatMap((entry) =>
      entry.message.type === 'deploy.result' ? [entry.message.deploymentId] : [],
    );
  }

  hasResult(deploymentId: string): boolean {
    return this.unacknowledgedIds().includes(deploymentId);
  }

  /** Sends after everything queued before it; dropped (false) while disconnected. */
  sendNow(message: DeployConfirmRequest): boolean {
    this.drain();
    return this.options.sink.send(message);
  }

  send(message: DeployProgress | DeployLog): void {
    this.queue.push({ message, file: null, sentOn: null });
    this.trim();
    this.drain();
  }

  async deliverResult(result: DeployResult): Promise<void> {
    const file = join(this.options.resultsDir, `${fileName(result.deploymentId)}.json`);
    try {
      // Atomic: a torn file would be skipped at the next start, losing the result.
      await writeFileAtomic(file, JSON.stringify(result));
    } catch (error) {
      // Still deliverable while the agent runs; only a restart would lose it.
      this.options.logger.error('cannot store the deployment result', { file, error });
    }
    // A deployment finished again after a restart replaces its earlier result.
    this.queue = this.queue.filter(
      (e) =>
        !(e.message.type === 'deploy.result' && e.message.deploymentId === result.deploymentId),
    );
    this.queue.push({ message: result, file, sentOn: null });
    this.drain();
  }

  /** Sends everything not yet sent on the current connection; call right after the welcome. */
  drain(): void {
    const { sink } = this.options;
    if (sink.isReady && this.dropped > 0) {
      this.options.logger.warn('deployment log messages were dropped while disconnected', {
        dropped: this.dropped,
      });
      this.dropped = 0;
    }
    for (const entry of [...this.queue]) {
      if (entry.sentOn === sink.generation) continue;
      const isResult = entry.message.type === 'deploy.result';
      // A result leaves the queue (and the disk) only when acknowledged; progress and log
      // lines are best effort.
      if (!sink.send(entry.message)) return;
      entry.sentOn = sink.generation;
      if (!isResult) this.remove(entry);
    }
  }

  /** The controller stored this deployment's result: forget it, in memory and on disk. */
  async acknowledge(deploymentId: string): Promise<void> {
    const entry = this.queue.find(
      (e) => e.message.type === 'deploy.result' && e.message.deploymentId === deploymentId,
    );
    if (entry) await this.delivered(entry);
  }

  private async delivered(entry: Entry): Promise<void> {
    this.remove(entry);
    if (entry.file === null) return;
    try {
      await rm(entry.file, { force: true });
    } catch (error) {
      this.options.logger.warn('cannot remove a delivered result file', {
        file: entry.file,
        error,
      });
    }
  }

  private remove(entry: Entry): void {
    this.queue = this.queue.filter((other) => other !== entry);
  }

  private trim(): void {
    const max = this.options.maxQueuedMessages ?? 1000;
    while (this.queue.length > max) {
      const oldest = this.queue.find((entry) => entry.message.type !== 'deploy.result');
      if (oldest === undefined) return;
      this.remove(oldest);
      if (this.dropped++ === 0) {
        this.options.logger.warn('controller unreachable: dropping the oldest deployment logs');
      }
    }
  }
}

/** Deployment ids are free-form strings; base64url makes any of them a safe file name. */
function fileName(deploymentId: string): string {
  return Buffer.from(deploymentId, 'utf8').toString('base64url');
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}
