import type { BuildRepository } from '../storage/build.repository.js';
import type { Clock } from '@flotilla/runtime';

export type BuildLogListener = (line: { seq: number; at: string; line: string }) => void;

/**
 * Stores one build's output lines in batches, up to a byte limit, after which it keeps a
 * single truncation marker. Live listeners see every stored line as it is written.
 */
export class BuildLogWriter {
  private pending: { at: string; line: string }[] = [];
  private pendingBytes = 0;
  private storedBytes: number;
  private nextSeq: number;
  private truncated: boolean;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      buildId: string;
      builds: BuildRepository;
      clock: Clock;
      limitBytes: number;
      /** Where the log continues (after a restart, the lines already stored). */
      startSeq: number;
      startBytes: number;
      truncated: boolean;
      listeners: () => Iterable<BuildLogListener>;
      flushMs?: number;
    },
  ) {
    this.nextSeq = options.startSeq;
    this.storedBytes = options.startBytes;
    this.truncated = options.truncated;
  }

  write(line: string): void {
    if (this.truncated) return;
    const bytes = Buffer.byteLength(line) + 1;
    const at = this.options.clock.now().toISOString();
    if (this.storedBytes + this.pendingBytes + bytes > this.options.limitBytes) {
      this.truncated = true;
      this.push(
        at,
        `[log truncated: only the first ${this.options.limitBytes} bytes are kept; the error summary above is taken from the full output]`,
        0,
      );
    } else {
      this.push(at, line, bytes);
    }
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 200);
  }

  /** Lines written but not stored yet, with their sequence numbers (for new listeners). */
  unstored(): { seq: number; at: string; line: string }[] {
    const first = this.nextSeq - this.pending.length;
    return this.pending.map((l, i) => ({ seq: first + i, ...l }));
  }

  private push(at: string, line: string, bytes: number): void {
    const seq = this.nextSeq++;
    this.pending.push({ at, line });
    this.pendingBytes += bytes;
    for (const listener of this.options.listeners()) listener({ seq, at, line });
  }

  /** Writes what is buffered; resolves when everything written so far is stored. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending;
    const bytes = this.pendingBytes;
    if (lines.length === 0) return this.chain;
    this.pending = [];
    this.pendingBytes = 0;
    const firstSeq = this.nextSeq - lines.length;
    const truncated = this.truncated;
    this.storedBytes += bytes;
    this.chain = this.chain.then(() =>
      this.options.builds.appendLog(this.options.buildId, firstSeq, lines, bytes, truncated),
    );
    return this.chain;
  }
}

/** The lines of Nix output that explain a failure: from the first `error:` on. */
export function errorSummary(output: string, maxChars = 8_000): string | null {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => /^error[: ]/.test(line.trim()));
  if (start < 0) return null;
  const text = lines.slice(start).join('\n').trim();
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n[…]` : text;
}
