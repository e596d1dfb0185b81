import type { DeployLog, LogStream } from '@flotilla/protocol';
import type { CancelTimer, Clock } from '@flotilla/runtime';
import { MAX_LINE_LENGTH } from '@flotilla/runtime';

export interface DeployLogBatcherOptions {
  deploymentId: string;
  send: (message: DeployLog) => void;
  clock: Clock;
  /** Longest a line waits before it is sent, in milliseconds. */
  flushIntervalMs?: number;
  /** A batch this large is sent at once (the protocol allows up to 1000). */
  maxLines?: number;
}

/**
 * Groups a deployment's output lines into `deploy.log` messages: one message per ~100 ms
 * or per 200 lines, whichever comes first, so a chatty activation does not become
 * thousands of tiny frames while a quiet one still shows up promptly.
 */
export class DeployLogBatcher {
  private lines: DeployLog['lines'] = [];
  private cancelTimer: CancelTimer | null = null;
  private readonly flushIntervalMs: number;
  private readonly maxLines: number;

  constructor(private readonly options: DeployLogBatcherOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.maxLines = options.maxLines ?? 200;
  }

  add(stream: LogStream, line: string): void {
    this.lines.push({
      at: this.options.clock.now().toISOString(),
      stream,
      line: line.length > MAX_LINE_LENGTH ? line.slice(0, MAX_LINE_LENGTH) : line,
    });
    if (this.lines.length >= this.maxLines) {
      this.flush();
    } else if (this.cancelTimer === null) {
      this.cancelTimer = this.options.clock.setTimer(() => this.flush(), this.flushIntervalMs);
    }
  }

  /** Sends whatever is waiting now; call before the deployment's result goes out. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    this.options.send({ type: 'deploy.log', deploymentId: this.options.deploymentId, lines });
  }
}
