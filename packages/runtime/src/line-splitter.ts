import { StringDecoder } from 'node:string_decoder';

/** Longest line the protocol carries in a `deploy.log` message (characters). */
export const MAX_LINE_LENGTH = 16384;

/**
 * Turns a byte stream into lines. Multi-byte characters split across chunks are decoded
 * correctly, a trailing "\r" is dropped, and over-long lines are cut into pieces of
 * `maxLength` so one runaway line cannot exceed the protocol's limit.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLength = MAX_LINE_LENGTH,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      this.emit(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    while (this.pending.length > this.maxLength) {
      this.onLine(this.pending.slice(0, this.maxLength));
      this.pending = this.pending.slice(this.maxLength);
    }
  }

  /** Emits the last line when the stream did not end with a newline. */
  end(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') this.emit(this.pending);
    this.pending = '';
  }

  private emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    for (let start = 0; start < text.length || start === 0; start += this.maxLength) {
      this.onLine(text.slice(start, start + this.maxLength));
    }
  }
}
