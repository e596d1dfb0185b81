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
import {
  AuditList,
  DecisionRequest,
  DecisionResult,
  GraduationList,
  HostPolicy,
  HostPolicyList,
  HostRollout,
  PendingApprovalList,
  PinRequest,
  Rollout,
  SetPolicyRequest,
  WaveStatus,
} from '@flotilla/protocol';
import { NotificationList } from '@flotilla/protocol';
import { z } from 'zod';
import { ApiTransport, validateRequest } from './api-transport.js';

/** How to reach the controller. */
export interface ApiClientOptions {
  /** Base URL of the controller, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  url: string;
  /** Admin token sent as `Authorization: Bearer`; omitted when undefined. */
  token?: string | undefined;
  /** Give up on a request after this long, in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/** `GET /api/v1/waves`. The protocol has the item schema but no list schema yet. */
const WaveList = z.object({ waves: z.array(WaveStatus) });
/** The answer to `GET /api/v1/waves`. */
export type WaveList = z.infer<typeof WaveList>;

/**
 * Typed client for the controller's HTTP API. Every answer is parsed with its protocol schema,
 * so a caller gets either validated data or an {@link ApiError} carrying a stable code.
 */
export class ApiClient {
  readonly url: string;
  readonly #http: ApiTransport;

  constructor(options: ApiClientOptions) {
    this.#http = new ApiTransport(options);
    this.url = this.#http.url;
  }

  /** `GET /api/v1/cache`: the binary cache's public key, path and push target. */
  getCache(): Promise<CacheInfo> {
    return this.#http.request('GET', '/api/v1/cache', { schema: CacheInfo });
  }

  /** `GET /healthz`. A 503 still carries a Health body, so it is returned, not thrown. */
  health(): Promise<Health> {
    return this.#http.request('GET', '/healthz', { schema: Health, acceptStatuses: [503] });
  }

  /** One page of hosts, ordered by name. */
  listHosts(
    query: { limit?: number; cursor?: string; status?: HostStatus } = {},
  ): Promise<HostList> {
    return this.#http.request('GET', '/api/v1/hosts', { schema: HostList, query });
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
    return this.#http.request('GET', `/api/v1/hosts/${encodeURIComponent(name)}`, { schema: Host });
  }

  /** Registers a host. The answer holds the agent's token, which the controller never shows again. */
  async createHost(request: z.input<typeof CreateHostRequest>): Promise<CreateHostResponse> {
    const body = validateRequest(CreateHostRequest, request);
    return this.#http.request('POST', '/api/v1/hosts', { schema: CreateHostResponse, body });
  }

  /** Asks the controller to deploy a store path to a host. */
  async createDeployment(request: z.input<typeof CreateDeploymentRequest>): Promise<Deployment> {
    const body = validateRequest(CreateDeploymentRequest, request);
    return this.#http.request('POST', '/api/v1/deployments', { schema: Deployment, body });
  }

  /** Recent deployments, newest first. */
  listDeployments(query: { host?: string; limit?: number } = {}): Promise<DeploymentList> {
    return this.#http.request('GET', '/api/v1/deployments', { schema: DeploymentList, query });
  }

  /** One deployment with its whole log. */
  getDeployment(id: string): Promise<DeploymentWithLog> {
    const path = `/api/v1/deployments/${encodeURIComponent(id)}`;
    return this.#http.request('GET', path, { schema: DeploymentWithLog });
  }

  /** Log lines with `seq > after`, and the deployment's status at the time of the read. */
  getDeploymentLog(id: string, query: { after?: number; limit?: number } = {}): Promise<LogPage> {
    const path = `/api/v1/deployments/${encodeURIComponent(id)}/log`;
    return this.#http.request('GET', path, { schema: LogPage, query });
  }

  /** Rolls a host back to an earlier generation (default: the one before the current). */
  rollbackHost(name: string, generation?: number): Promise<Deployment> {
    const path = `/api/v1/hosts/${encodeURIComponent(name)}/rollback`;
    return this.#http.request('POST', path, {
      schema: Deployment,
      body: generation === undefined ? {} : { generation },
    });
  }

  /** Asks a managed host to reboot. */
  rebootHost(name: string): Promise<RebootAnswer> {
    const path = `/api/v1/hosts/${encodeURIComponent(name)}/reboot`;
    return this.#http.request('POST', path, { schema: RebootAnswer, body: {} });
  }

  /** Builds, newest first. */
  listBuilds(
    query: { status?: BuildStatus; host?: string; limit?: number } = {},
  ): Promise<BuildList> {
    return this.#http.request('GET', '/api/v1/builds', { schema: BuildList, query });
  }

  getBuild(id: string): Promise<Build> {
    return this.#http.request('GET', `/api/v1/builds/${encodeURIComponent(id)}`, { schema: Build });
  }

  getBuildLog(id: string, query: { after?: number; limit?: number } = {}): Promise<BuildLogPage> {
    const path = `/api/v1/builds/${encodeURIComponent(id)}/log`;
    return this.#http.request('GET', path, { schema: BuildLogPage, query });
  }

  cancelBuild(id: string): Promise<Build> {
    const path = `/api/v1/builds/${encodeURIComponent(id)}/cancel`;
    return this.#http.request('POST', path, { schema: Build, body: {} });
  }

  retryBuild(id: string): Promise<Build> {
    const path = `/api/v1/builds/${encodeURIComponent(id)}/retry`;
    return this.#http.request('POST', path, { schema: Build, body: {} });
  }

  /** Releases, newest first. */
  listReleases(
    query: { host?: string; status?: ReleaseStatus; limit?: number } = {},
  ): Promise<ReleaseList> {
    return this.#http.request('GET', '/api/v1/releases', { schema: ReleaseList, query });
  }

  getRelease(id: string): Promise<Release> {
    return this.#http.request('GET', `/api/v1/releases/${encodeURIComponent(id)}`, {
      schema: Release,
    });
  }

  /** What a previewed ref would rebuild. */
  getPreview(revisionId: string): Promise<Preview> {
    const path = `/api/v1/previews/${encodeURIComponent(revisionId)}`;
    return this.#http.request('GET', path, { schema: Preview });
  }

  /** The flake's hosts joined with the registry. */
  flakeHosts(): Promise<FlakeHostList> {
    return this.#http.request('GET', '/api/v1/flake/hosts', { schema: FlakeHostList });
  }

  /** The linked repository; `repository_not_linked` when there is none. */
  getRepository(): Promise<Repository> {
    return this.#http.request('GET', '/api/v1/repository', { schema: Repository });
  }

  /** Links the repository (replacing any API link); the token is sent, never shown back. */
  async linkRepository(request: z.input<typeof LinkRepositoryRequest>): Promise<Repository> {
    const body = validateRequest(LinkRepositoryRequest, request);
    return this.#http.request('PUT', '/api/v1/repository', { schema: Repository, body });
  }

  /** Fetches now and returns what was found. */
  syncRepository(): Promise<SyncResult> {
    return this.#http.request('POST', '/api/v1/repository/sync', { schema: SyncResult, body: {} });
  }

  /** Recorded revisions, newest first. */
  listRevisions(query: { kind?: RevisionKind; limit?: number } = {}): Promise<RevisionList> {
    return this.#http.request('GET', '/api/v1/revisions', { schema: RevisionList, query });
  }

  getRevision(id: string): Promise<Revision> {
    const path = `/api/v1/revisions/${encodeURIComponent(id)}`;
    return this.#http.request('GET', path, { schema: Revision });
  }

  /** Records a preview revision of a ref such as `refs/pull/12/head`. */
  async createPreview(ref: string): Promise<CreatePreviewResponse> {
    const body = validateRequest(CreatePreviewRequest, { ref });
    return this.#http.request('POST', '/api/v1/previews', { schema: CreatePreviewResponse, body });
  }

  /** Every host's deployment policy, pin and wave. */
  listPolicies(): Promise<HostPolicyList> {
    return this.#http.request('GET', '/api/v1/policies', { schema: HostPolicyList });
  }

  /** Sets a host's policy; `policy_locked` when the config file owns it. */
  async setPolicy(host: string, request: z.input<typeof SetPolicyRequest>): Promise<HostPolicy> {
    const body = validateRequest(SetPolicyRequest, request);
    const path = `${hostPath(host)}/policy`;
    return this.#http.request('PUT', path, { schema: HostPolicy, body });
  }

  /** Pins a host: `auto` stops moving it forward; its releases wait for approval. */
  async pinHost(host: string, request: z.input<typeof PinRequest> = {}): Promise<HostPolicy> {
    const body = validateRequest(PinRequest, request);
    return this.#http.request('POST', `${hostPath(host)}/pin`, { schema: HostPolicy, body });
  }

  unpinHost(host: string): Promise<HostPolicy> {
    return this.#http.request('DELETE', `${hostPath(host)}/pin`, { schema: HostPolicy });
  }

  /** Deployments waiting for a human, oldest first as the controller sends them. */
  listApprovals(): Promise<PendingApprovalList> {
    return this.#http.request('GET', '/api/v1/approvals', { schema: PendingApprovalList });
  }

  /**
   * Approves or rejects one deployment, a release, or every waiting deployment of a revision.
   * Refusals come back as `approval_not_allowed` or `nothing_to_approve`.
   */
  async decide(request: z.input<typeof DecisionRequest>): Promise<DecisionResult> {
    const body = validateRequest(DecisionRequest, request);
    return this.#http.request('POST', '/api/v1/approvals', { schema: DecisionResult, body });
  }

  /** Which manual hosts could move to `auto`, and what is still missing for the others. */
  graduation(): Promise<GraduationList> {
    return this.#http.request('GET', '/api/v1/graduation', { schema: GraduationList });
  }

  /** The configured waves, in rollout order. */
  listWaves(): Promise<WaveList> {
    return this.#http.request('GET', '/api/v1/waves', { schema: WaveList });
  }

  /** How one revision is moving through the waves. */
  getRollout(revisionId: string): Promise<Rollout> {
    const path = `/api/v1/rollouts/${encodeURIComponent(revisionId)}`;
    return this.#http.request('GET', path, { schema: Rollout });
  }

  /** One page of the audit log, newest first; pass `nextCursor` as `before` for the next. */
  listAudit(
    query: { host?: string; kind?: string; before?: number; limit?: number } = {},
  ): Promise<AuditList> {
    return this.#http.request('GET', '/api/v1/audit', { schema: AuditList, query });
  }

  /** What each layer says about a host: declared, built, approved, executed, verified. */
  getHostRollout(host: string): Promise<HostRollout> {
    return this.#http.request('GET', `${hostPath(host)}/rollout`, { schema: HostRollout });
  }

  /** Recent notifications, newest first, each with every receiver's delivery state. */
  listNotifications(query: { limit?: number } = {}): Promise<NotificationList> {
    return this.#http.request('GET', '/api/v1/notifications', { schema: NotificationList, query });
  }
}

function hostPath(host: string): string {
  return `/api/v1/hosts/${encodeURIComponent(host)}`;
}
