import {
  Build,
  BuildList,
  BuildLogPage,
  FlakeHostList,
  Preview,
  RebootAnswer,
  Release,
  ReleaseList,
  type BuildStatus,
  type ReleaseStatus,
} from '@flotilla/protocol';
import {
  CacheInfo,
  CreateDeploymentRequest,
  CreateHostRequest,
  CreateHostResponse,
  Deployment,
  DeploymentList,
  DeploymentWithLog,
  ErrorBody,
  Health,
  Host,
  HostList,
  LogPage,
  type HostStatus,
} from '@flotilla/protocol';
import {
  CreatePreviewRequest,
  CreatePreviewResponse,
  LinkRepositoryRequest,
  Repository,
  Revision,
  RevisionList,
  SyncResult,
  type RevisionKind,
} from '@flotilla/protocol';
import { z } from 'zod';
import { ApiError, describeIssues } from './errors.js';

/** How to reach the controller. */
export interface ApiClientOptions {
  /** Base URL of the controller, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  url: string;
  /** Admin token sent as `Authorization: Bearer`; omitted when undefined. */
  token?: string | undefined;
  /** Give up on a request after this long, in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

interface RequestOptions<T> {
  schema: z.ZodType<T>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Non-2xx statuses whose body is still the expected schema (e.g. a degraded health check). */
  acceptStatuses?: readonly number[];
}

const ErrorEnvelope = z.object({ error: ErrorBody });
const LooseErrorEnvelope = z.object({ error: z.object({ message: z.string() }) });

/**
 * Typed client for the controller's HTTP API. Every answer is parsed with its protocol schema,
 * so a caller gets either validated data or an {@link ApiError} carrying a stable code.
 */
export class ApiClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** `GET /api/v1/cache`: the binary cache's public key, path and push target. */
  getCache(): Promise<CacheInfo> {
    return this.#request('GET', '/api/v1/cache', { schema: CacheInfo });
  }

  /** `GET /healthz`. A 503 still carries a Health body, so it is returned, not thrown. */
  health(): Promise<Health> {
    return this.#request('GET', '/healthz', { schema: Health, acceptStatuses: [503] });
  }

  /** One page of hosts, ordered by name. */
  listHosts(
    query: { limit?: number; cursor?: string; status?: HostStatus } = {},
  ): Promise<HostList> {
    return this.#request('GET', '/api/v1/hosts', { schema: HostList, query });
  }

  /** All hosts, following `nextCursor`; `counts` come from the last page. */
  async listAllHosts(query: { status?: HostStatus; pageSize?: number } = {}): Promise<HostList> {
    const hosts: Host[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.listHosts({ limit: query.pageSize, cursor, status: query.status });
      hosts.push(...page.hosts);
      if (page.nextCursor === null) return { hosts, nextCursor: null, counts: page.counts };
      cursor = page.nextCursor;
    }
  }

  /** `GET /api/v1/hosts/:name`. */
  getHost(name: string): Promise<Host> {
    return this.#request('GET', `/api/v1/hosts/${encodeURIComponent(name)}`, { schema: Host });
  }

  /** Registers a host. The answer holds the agent's token, which the controller never shows again. */
  async createHost(request: z.input<typeof CreateHostRequest>): Promise<CreateHostResponse> {
    const body = validateRequest(CreateHostRequest, request);
    return this.#request('POST', '/api/v1/hosts', { schema: CreateHostResponse, body });
  }

  /** Asks the controller to deploy a store path to a host. */
  async createDeployment(request: z.input<typeof CreateDeploymentRequest>): Promise<Deployment> {
    const body = validateRequest(CreateDeploymentRequest, request);
    return this.#request('POST', '/api/v1/deployments', { schema: Deployment, body });
  }

  /** Recent deployments, newest first. */
  listDeployments(query: { host?: string; limit?: number } = {}): Promise<DeploymentList> {
    return this.#request('GET', '/api/v1/deployments', { schema: DeploymentList, query });
  }

  /** One deployment with its whole log. */
  getDeployment(id: string): Promise<DeploymentWithLog> {
    const path = `/api/v1/deployments/${encodeURIComponent(id)}`;
    return this.#request('GET', path, { schema: DeploymentWithLog });
  }

  /** Log lines with `seq > after`, and the deployment's status at the time of the read. */
  getDeploymentLog(id: string, query: { after?: number; limit?: number } = {}): Promise<LogPage> {
    const path = `/api/v1/deployments/${encodeURIComponent(id)}/log`;
    return this.#request('GET', path, { schema: LogPage, query });
  }

  /** Rolls a host back to an earlier generation (default: the one before the current). */
  rollbackHost(name: string, generation?: number): Promise<Deployment> {
    const path = `/api/v1/hosts/${encodeURIComponent(name)}/rollback`;
    return this.#request('POST', path, {
      schema: Deployment,
      body: generation === undefined ? {} : { generation },
    });
  }

  /** Asks a managed host to reboot. */
  rebootHost(name: string): Promise<RebootAnswer> {
    const path = `/api/v1/hosts/${encodeURIComponent(name)}/reboot`;
    return this.#request('POST', path, { schema: RebootAnswer, body: {} });
  }

  /** Builds, newest first. */
  listBuilds(
    query: { status?: BuildStatus; host?: string; limit?: number } = {},
  ): Promise<BuildList> {
    return this.#request('GET', '/api/v1/builds', { schema: BuildList, query });
  }

  getBuild(id: string): Promise<Build> {
    return this.#request('GET', `/api/v1/builds/${encodeURIComponent(id)}`, { schema: Build });
  }

  getBuildLog(id: string, query: { after?: number; limit?: number } = {}): Promise<BuildLogPage> {
    const path = `/api/v1/builds/${encodeURIComponent(id)}/log`;
    return this.#request('GET', path, { schema: BuildLogPage, query });
  }

  cancelBuild(id: string): Promise<Build> {
    const path = `/api/v1/builds/${encodeURIComponent(id)}/cancel`;
    return this.#request('POST', path, { schema: Build, body: {} });
  }

  retryBuild(id: string): Promise<Build> {
    const path = `/api/v1/builds/${encodeURIComponent(id)}/retry`;
    return this.#request('POST', path, { schema: Build, body: {} });
  }

  /** Releases, newest first. */
  listReleases(
    query: { host?: string; status?: ReleaseStatus; limit?: number } = {},
  ): Promise<ReleaseList> {
    return this.#request('GET', '/api/v1/releases', { schema: ReleaseList, query });
  }

  getRelease(id: string): Promise<Release> {
    return this.#request('GET', `/api/v1/releases/${encodeURIComponent(id)}`, { schema: Release });
  }

  /** What a previewed ref would rebuild. */
  getPreview(revisionId: string): Promise<Preview> {
    const path = `/api/v1/previews/${encodeURIComponent(revisionId)}`;
    return this.#request('GET', path, { schema: Preview });
  }

  /** The flake's hosts joined with the registry. */
  flakeHosts(): Promise<FlakeHostList> {
    return this.#request('GET', '/api/v1/flake/hosts', { schema: FlakeHostList });
  }

  /** The linked repository; `repository_not_linked` when there is none. */
  getRepository(): Promise<Repository> {
    return this.#request('GET', '/api/v1/repository', { schema: Repository });
  }

  /** Links the repository (replacing any API link); the token is sent, never shown back. */
  async linkRepository(request: z.input<typeof LinkRepositoryRequest>): Promise<Repository> {
    const body = validateRequest(LinkRepositoryRequest, request);
    return this.#request('PUT', '/api/v1/repository', { schema: Repository, body });
  }

  /** Fetches now and returns what was found. */
  syncRepository(): Promise<SyncResult> {
    return this.#request('POST', '/api/v1/repository/sync', { schema: SyncResult, body: {} });
  }

  /** Recorded revisions, newest first. */
  listRevisions(query: { kind?: RevisionKind; limit?: number } = {}): Promise<RevisionList> {
    return this.#request('GET', '/api/v1/revisions', { schema: RevisionList, query });
  }

  getRevision(id: string): Promise<Revision> {
    const path = `/api/v1/revisions/${encodeURIComponent(id)}`;
    return this.#request('GET', path, { schema: Revision });
  }

  /** Records a preview revision of a ref such as `refs/pull/12/head`. */
  async createPreview(ref: string): Promise<CreatePreviewResponse> {
    const body = validateRequest(CreatePreviewRequest, { ref });
    return this.#request('POST', '/api/v1/previews', { schema: CreatePreviewResponse, body });
  }

  async #request<T>(method: string, path: string, options: RequestOptions<T>): Promise<T> {
    const target = this.#target(path, options.query);
    const response = await this.#send(method, target, options.body);
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

  #target(path: string, query: RequestOptions<unknown>['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.url}${path}${search === '' ? '' : `?${search}`}`;
  }

  async #send(method: string, target: string, body: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
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
function validateRequest<T>(schema: z.ZodType<T>, input: unknown): T {
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
