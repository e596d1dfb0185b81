import { LiveEvent } from '@flotilla/protocol';

/** One server-sent event as it came, with its `data` parsed against the protocol's schema. */
export interface ReceivedEvent {
  id: string | null;
  /** The SSE `event:` name. */
  name: string;
  event: LiveEvent;
}

/**
 * A client of `GET /api/v1/events` over `fetch`'s streaming body, as a test or benchmark
 * reads it: every event (checked against `LiveEvent`, its `type` against the SSE name),
 * comments, the `retry` it was told, whether the server ended the stream, and waits for
 * what a test expects, in order, with a deadline.
 */
export class EventStreamClient {
  readonly events: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  /** Set once the server ended the stream (or the connection broke). */
  ended = false;
  /** Events that did not parse: a broken stream fails the test that waits on it. */
  readonly errors: string[] = [];
  private cursor = 0;
  private wake: (() => void)[] = [];

  private constructor(
    readonly status: number,
    /** The answer's body when it was not a stream (an error). */
    readonly body: string | null,
    private readonly abort: AbortController,
  ) {}

  /** Opens the stream at `url` with `headers` (a Bearer token or a session cookie). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<EventStreamClient> {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    if (response.status !== 200 || !response.body) {
      return new EventStreamClient(response.status, await response.text(), abort);
    }
    const client = new EventStreamClient(response.status, null, abort);
    void client.read(response.body);
    return client;
  }

  /** Closes the stream from this side. */
  close(): void {
    this.abort.abort();
  }

  /**
   * The first event after the last one `next` returned that satisfies `match`; waits for it
   * until `timeoutMs`, and fails when the stream ends or breaks first.
   */
  async next(
    match: (event: LiveEvent) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.errors.length > 0) throw new Error(`bad event stream: ${this.errors.join('; ')}`);
      const index = this.events.findIndex((e, i) => i >= this.cursor && match(e.event));
      const found = this.events[index];
      if (found) {
        this.cursor = index + 1;
        return found;
      }
      if (this.ended) throw new Error(`the event stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.map((e) => e.name).join(', ');
        throw new Error(`no ${what} within ${timeoutMs} ms (seen: ${seen || 'nothing'})`);
      }
      await this.changed(left);
    }
  }

  /** Resolves once the server ended the stream; fails after `timeoutMs`. */
  async end(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the event stream did not end within ${timeoutMs} ms`);
      await this.changed(left);
    }
  }

  /** Events of `type` received so far. */
  all<T extends LiveEvent['type']>(type: T): Extract<LiveEvent, { type: T }>[] {
    return this.events
      .map((e) => e.event)
      .filter((e): e is Extract<LiveEvent, { type: T }> => e.type === type);
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.wake.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const wake of waiting) wake();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.take(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.notify();
      }
    } catch {
      // Aborted by `close`, or the connection broke: either way the stream is over.
    }
    this.ended = true;
    this.notify();
  }

  /** One block of lines up to a blank line: an event, a comment or a `retry`. */
  private take(block: string): void {
    let id: string | null = null;
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    const parsed = LiveEvent.safeParse(JSON.parse(data.join('\n')));
    if (!parsed.success || parsed.data.type !== name) {
      this.errors.push(`event ${name} (id ${id ?? 'none'}): ${data.join('\n')}`);
      return;
    }
    this.events.push({ id, name, event: parsed.data });
  }
}
