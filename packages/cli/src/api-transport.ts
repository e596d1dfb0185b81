import { ErrorBody } from '@flotilla/protocol';
import * as z from 'zod';
import { ApiError, describeIssues } from './errors.js';

/** How one request is made and how its answer is read. */
export interface RequestOptions<T> {
  schema: z.ZodType<T>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Extra request headers (the step-up code). */
  headers?: Record<string, string>;
  /** Non-2xx statuses whose body is still the expected schema (e.g. a degraded health check). */
  acceptStatuses?: readonly number[];
}

const ErrorEnvelope = z.object({ error: ErrorBody });
const LooseErrorEnvelope = z.object({ error: z.object({ message: z.string() }) });

/**
 * The HTTP side of {@link ApiClient}: sends JSON with the bearer token and turns every answer
 * into validated data or an {@link ApiError}, so the client's methods only name routes.
 */
export class ApiTransport {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: { url: string; token?: string | undefined; timeoutMs?: number }) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends one request; resolves to the answer parsed with `options.schema`. */
  async request<T>(method: string, path: string, options: RequestOptions<T>): Promise<T> {
    const target = this.#target(path, options.query);
    const response = await this.#send(method, target, options.body, options.headers);
    const text = await response.text();
    const json = parseJson(text);
    const accepted = response.ok || (options.acceptStatuses ?? []).includes(response.status);
    if (!accepted) throw errorFromAnswer(method, path, response, json);
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(
        'invalid_response',
        `the controller's answer to ${method} ${path} does not match this CLI's protocol: ${describeIssues(parsed.error)}`,
        response.status,
      );
    }
    return parsed.data;
  }

  /**
   * Opens a server-sent event stream at `path` and calls `onEvent` with each event's name
   * until `signal` aborts or the stream ends; resolves true when it was open at all. No
   * request timeout: the stream lives as long as its reader wants.
   */
  async events(
    path: string,
    signal: AbortSignal,
    onEvent: (name: string) => void,
  ): Promise<boolean> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    const response = await fetch(this.#target(path, undefined), { headers, signal });
    if (response.status !== 200 || response.body === null) {
      await response.body?.cancel();
      return false;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: ?(.*)$/m.exec(block)?.[1];
        if (name !== undefined) onEvent(name.trim());
      }
    }
    return true;
  }

  #target(path: string, query: RequestOptions<unknown>['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.url}${path}${search === '' ? '' : `?${search}`}`;
  }

  async #send(
    method: string,
    target: string,
    body: unknown,
    extraHeaders: Record<string, string> | undefined,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(target, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw this.#connectionError(error);
    }
  }

  #connectionError(error: unknown): ApiError {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return new ApiError(
        'connection_failed',
        `controller at ${this.url} did not answer within ${this.#timeoutMs / 1000}s`,
        null,
      );
    }
    // fetch hides the socket error in `cause` (ECONNREFUSED, ENOTFOUND, "bad port", ...).
    const cause = error instanceof Error ? error.cause : undefined;
    const code = (cause as { code?: unknown } | undefined)?.code;
    const reason =
      typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(error);
    return new ApiError(
      'connection_failed',
      `cannot reach controller at ${this.url}: is it running? (${reason})`,
      null,
    );
  }
}

/** Checks a request body before sending it, so a bad name fails without a round trip. */
export function validateRequest<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ApiError('validation_failed', describeIssues(parsed.error), null);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Maps a non-2xx answer to an error, keeping the controller's code when the body has one. */
function errorFromAnswer(
  method: string,
  path: string,
  response: Response,
  json: unknown,
): ApiError {
  const envelope = ErrorEnvelope.safeParse(json);
  if (envelope.success) return ApiError.fromBody(response.status, envelope.data.error);
  // Not our error shape: a proxy page, or a code this CLI does not know yet.
  const loose = LooseErrorEnvelope.safeParse(json);
  const reason = loose.success ? `: ${loose.data.error.message}` : '';
  return new ApiError(
    'unexpected_response',
    `${method} ${path} answered HTTP ${response.status} ${response.statusText}${reason}`,
    response.status,
  );
}
