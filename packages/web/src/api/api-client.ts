import {
  api,
  contractPath,
  CSRF_HEADER,
  ErrorBody,
  STEP_UP_HEADER,
  type Api,
  type Contract,
  type ContractInput,
  type ContractOutput,
  type JsonContractName,
  type SessionAnswer,
} from '@flotilla/protocol';
import * as z from 'zod';
import { ApiError } from './api-error.js';

/** A route's input may be left out when none of its parts is required. */
type OptionalIfEmpty<I> = Record<string, never> extends I ? [I?] : [I];

/** The contracts by name, as plain data (the typed view is `Api`). */
const CONTRACTS: Readonly<Record<string, Contract>> = api;
const READ_METHODS = new Set(['GET', 'HEAD']);
const ErrorEnvelope = z.object({ error: ErrorBody });

/** Where the CSRF token of this browser's session is kept between page loads. */
export interface CsrfStore {
  get(): string | null;
  set(token: string | null): void;
}

/**
 * The CSRF token in `localStorage`, so every tab and a reload keep sending it. It proves
 * only that a request comes from this origin (the session itself is an HttpOnly cookie the
 * page never sees); the controller keeps its hash with the session.
 */
export function localCsrfStore(storage: Storage = window.localStorage): CsrfStore {
  const key = 'flotilla.csrf';
  return {
    get: () => storage.getItem(key),
    set: (token) => (token === null ? storage.removeItem(key) : storage.setItem(key, token)),
  };
}

export interface ApiClientOptions {
  csrf: CsrfStore;
  /** Origin and path prefix of the controller; default: the page's own origin. */
  baseUrl?: string;
  /** Give up on a request after this long, in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/**
 * Asks the person for a TOTP code when a destructive action needs step-up; resolves to null
 * when they cancel. `action` says what the code is for.
 */
export type StepUpPrompt = (action: string) => Promise<string | null>;

/**
 * The browser's typed client of the controller's API, derived from the route contracts of
 * `@flotilla/protocol`: `call('listHosts', { query })` builds the path from the contract,
 * checks params and body with its schemas before sending, and parses the answer with its
 * response schema, so a caller gets validated data or an {@link ApiError} with a stable
 * code. The session is the HttpOnly cookie; the CSRF token goes in `x-csrf-token` on every
 * change; a route that asks for step-up is sent once more with the code the person typed.
 */
export class ApiClient {
  readonly #csrf: CsrfStore;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  #stepUp: StepUpPrompt | undefined;

  constructor(options: ApiClientOptions) {
    this.#csrf = options.csrf;
    this.#baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Who asks for TOTP codes (the step-up dialog); without one, step-up errors reach the caller. */
  setStepUpPrompt(prompt: StepUpPrompt | undefined): void {
    this.#stepUp = prompt;
  }

  /** Calls the JSON route `name` with its params, query and body. */
  async call<K extends JsonContractName>(
    name: K,
    ...input: OptionalIfEmpty<ContractInput<Api[K]>>
  ): Promise<ContractOutput<Api[K]>> {
    const contract = CONTRACTS[name];
    if (!contract || contract.response.kind !== 'json') throw new Error(`${name} is not JSON`);
    const given = ((input as readonly unknown[])[0] ?? {}) as {
      params?: object;
      query?: object;
      body?: unknown;
    };
    const params = contract.params ? checked(contract.params, given.params ?? {}) : undefined;
    const body = contract.body ? checked(contract.body, given.body ?? {}) : undefined;
    const path = contractPath(contract.path, params as Record<string, unknown> | undefined);
    const target = `${this.#baseUrl}${path}${queryString(given.query)}`;
    const { schema } = contract.response;
    const send = (code: string | undefined) =>
      this.#request(contract.method, target, schema, {
        // POST routes without a body schema still get an empty JSON object.
        body: contract.body ? body : contract.method === 'POST' ? {} : undefined,
        stepUpCode: code,
      });
    try {
      return (await send(undefined)) as ContractOutput<Api[K]>;
    } catch (error) {
      const prompt = this.#stepUp;
      if (!(error instanceof ApiError) || error.code !== 'step_up_required') throw error;
      if (contract.stepUp === undefined || prompt === undefined) throw error;
      const code = (await prompt(actionOf(contract)))?.trim();
      if (!code) throw new ApiError('step_up_cancelled', 'no TOTP code was given', null);
      // A code works once: it is sent with this request only, never kept.
      return (await send(code)) as ContractOutput<Api[K]>;
    }
  }

  /** Logs in: the controller sets the session cookie; the CSRF token is kept for changes. */
  async login(body: { username: string; password: string; totp?: string }): Promise<SessionAnswer> {
    const answer = await this.call('login', { body });
    this.#csrf.set(answer.csrfToken);
    return answer;
  }

  /** Ends this browser's session; forgets the CSRF token even when the session had ended. */
  async logout(): Promise<void> {
    try {
      await this.call('logout');
    } finally {
      this.#csrf.set(null);
    }
  }

  async #request(
    method: string,
    target: string,
    schema: z.ZodType,
    options: { body: unknown; stepUpCode: string | undefined },
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const csrf = this.#csrf.get();
    if (!READ_METHODS.has(method) && csrf !== null) headers[CSRF_HEADER] = csrf;
    if (options.stepUpCode !== undefined) headers[STEP_UP_HEADER] = options.stepUpCode;
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers,
        credentials: 'same-origin',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      throw new ApiError(
        'connection_failed',
        timedOut ? 'the controller did not answer in time' : 'cannot reach the controller',
        null,
      );
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) throw errorFromAnswer(method, target, response, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(
        'invalid_response',
        `the answer to ${method} ${new URL(target, location.href).pathname} does not match this page's protocol (reload to get the current app)`,
        response.status,
      );
    }
    return parsed.data;
  }
}

/** Checks params or a body before sending, so a mistake fails without a round trip. */
function checked(schema: z.ZodType, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  throw new ApiError('validation_failed', issues.join('; '), null);
}

/** Query values as a search string; undefined ones left out, arrays comma-joined. */
function queryString(query: object | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) params.set(key, value.join(','));
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      params.set(key, String(value));
  }
  const search = params.toString();
  return search === '' ? '' : `?${search}`;
}

/** What a route does, in a few words: its summary up to the first colon, semicolon or bracket. */
function actionOf(contract: Contract): string {
  return contract.summary.split(/[:;(]/)[0]?.trim() ?? contract.path;
}

function errorFromAnswer(
  method: string,
  target: string,
  response: Response,
  json: unknown,
): ApiError {
  const envelope = ErrorEnvelope.safeParse(json);
  if (envelope.success) {
    const { code, message, details } = envelope.data.error;
    return new ApiError(code, message, response.status, details);
  }
  const path = new URL(target, location.href).pathname;
  return new ApiError(
    'unexpected_response',
    `${method} ${path} answered HTTP ${response.status}`,
    response.status,
  );
}
