import {
  api,
  contractPath,
  Health,
  HealthDetails,
  STEP_UP_HEADER,
  type Api,
  type Contract,
  type ContractInput,
  type ContractOutput,
  type Host,
  type HostList,
  type HostStatus,
  type JsonContractName,
} from '@flotilla/protocol';
import { ApiTransport, validateRequest } from './api-transport.js';
import { ApiError } from './errors.js';

/** A route's input may be left out when none of its parts is required. */
type OptionalIfEmpty<I> = Record<string, never> extends I ? [I?] : [I];

/** The contracts by name, as plain data (the typed view is `Api`). */
const CONTRACTS: Readonly<Record<string, Contract>> = api;

/** How to reach the controller. */
export interface ApiClientOptions {
  /** Base URL of the controller, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  url: string;
  /** API token sent as `Authorization: Bearer`; omitted when undefined. */
  token?: string | undefined;
  /** Give up on a request after this long, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Where a TOTP code comes from when a destructive action asks for one. */
  stepUp?: StepUp;
}

/**
 * Step-up: a user with TOTP gives a current code for destructive actions (reboot, rollback,
 * policy auto, user changes, host removal), sent in the `X-Flotilla-TOTP` header.
 */
export interface StepUp {
  /** A code given up front (`--totp`, `FLOTILLA_TOTP`), sent on every route that may ask for one. */
  code?: string | undefined;
  /**
   * Asks the person at the terminal for a code when the controller wants one and none was
   * given; `action` says what it is for. Undefined without a terminal.
   */
  ask?: ((action: string) => Promise<string>) | undefined;
}

/**
 * Typed client for the controller's HTTP API, derived from the route contracts of
 * `@flotilla/protocol`: `call('listHosts', { query })` builds the path from the contract,
 * checks the body with the contract's schema before sending, and parses the answer with
 * its response schema, so a caller gets validated data or an {@link ApiError} with a
 * stable code. No route is declared here a second time.
 */
export class ApiClient {
  readonly url: string;
  readonly #http: ApiTransport;
  readonly #stepUp: StepUp;
  readonly #hasToken: boolean;

  constructor(options: ApiClientOptions) {
    this.#http = new ApiTransport(options);
    this.#hasToken = options.token !== undefined;
    this.url = this.#http.url;
    this.#stepUp = options.stepUp ?? {};
  }

  /** Calls the JSON route `name` with its params, query and body. */
  async call<K extends JsonContractName>(
    name: K,
    ...input: OptionalIfEmpty<ContractInput<Api[K]>>
  ): Promise<ContractOutput<Api[K]>> {
    const contract = CONTRACTS[name];
    if (!contract) throw new Error(`no route named ${name}`);
    if (contract.response.kind !== 'json') throw new Error(`${name} does not answer JSON`);
    const given: unknown = (input as readonly unknown[])[0];
    const args = (given ?? {}) as { params?: object; query?: object; body?: unknown };
    const params = contract.params
      ? validateRequest(contract.params, args.params ?? {})
      : undefined;
    const body = contract.body ? validateRequest(contract.body, args.body ?? {}) : undefined;
    const path = contractPath(contract.path, params as Record<string, unknown> | undefined);
    const { schema } = contract.response;
    const send = (code: string | undefined) =>
      this.#http.request(contract.method, path, {
        schema,
        query: queryOf(args.query),
        // POST routes without a body schema still get an empty JSON object.
        body: contract.body ? body : contract.method === 'POST' ? {} : undefined,
        headers: code === undefined ? undefined : { [STEP_UP_HEADER]: code },
      });
    const result =
      contract.stepUp === undefined
        ? await send(undefined)
        : await this.#withStepUp(contract, send);
    return result as ContractOutput<Api[K]>;
  }

  /**
   * Sends a request of a route that may ask for step-up with the code given up front; when
   * the controller asks for one and none was given, asks at the terminal and sends it once
   * more. A code works once, so it is never reused for another request.
   */
  async #withStepUp<T>(
    contract: Contract,
    send: (code: string | undefined) => Promise<T>,
  ): Promise<T> {
    const { code, ask } = this.#stepUp;
    try {
      return await send(code);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'step_up_required') throw error;
      if (code !== undefined) {
        throw retold(
          error,
          `${error.message} (the code from --totp or FLOTILLA_TOTP; each code works once)`,
        );
      }
      if (ask === undefined) {
        throw retold(
          error,
          `${error.message}: pass --totp CODE (or set FLOTILLA_TOTP) with a current code from your authenticator app`,
        );
      }
      const typed = (await ask(actionOf(contract))).trim();
      if (typed === '') throw retold(error, `${error.message}: no code was given`);
      return send(typed);
    }
  }

  /** `GET /healthz`. A 503 still carries a Health body, so it is returned, not thrown. */
  health(): Promise<Health> {
    return this.#http.request('GET', api.health.path, { schema: Health, acceptStatuses: [503] });
  }

  /** `GET /api/v1/health` (needs a token): health with version and agents; a 503 is returned too. */
  healthDetails(): Promise<HealthDetails> {
    return this.#http.request('GET', api.healthDetails.path, {
      schema: HealthDetails,
      acceptStatuses: [503],
    });
  }

  /**
   * Follows the controller's live events (`GET /api/v1/events`), calling `onEvent` with each
   * event's name until `signal` aborts; resolves false when the controller offers no stream.
   */
  liveEvents(signal: AbortSignal, onEvent: (name: string) => void): Promise<boolean> {
    return this.#http.events(api.events.path, signal, onEvent);
  }

  /** Whether a token is configured (commands that work without one may show more with one). */
  get hasToken(): boolean {
    return this.#hasToken;
  }

  /** All hosts, following `nextCursor`; `counts` come from the last page. */
  async listAllHosts(query: { status?: HostStatus; pageSize?: number } = {}): Promise<HostList> {
    const hosts: Host[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.call('listHosts', {
        query: { limit: query.pageSize, cursor, status: query.status },
      });
      hosts.push(...page.hosts);
      if (page.nextCursor === null) return { hosts, nextCursor: null, counts: page.counts };
      cursor = page.nextCursor;
    }
  }
}

/** The error with another message, its code, status and details kept. */
function retold(error: ApiError, message: string): ApiError {
  return new ApiError(error.code, message, error.status, error.details);
}

/** What a route does, in a few words: its summary up to the first colon, semicolon or bracket. */
function actionOf(contract: Contract): string {
  return contract.summary.split(/[:;(]/)[0]?.trim() ?? contract.path;
}

/** Query values as strings; undefined ones are left out, arrays are comma-joined. */
function queryOf(query: object | undefined): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) out[key] = value.join(',');
    else if (typeof value === 'string' || typeof value === 'number') out[key] = value;
    else if (typeof value === 'boolean') out[key] = String(value);
    else throw new ApiError('validation_failed', `query ${key} must be a value`, null);
  }
  return out;
}
