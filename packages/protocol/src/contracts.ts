import * as z from 'zod';
import {
  CancelDeploymentRequest,
  CreateDeploymentRequest,
  CreateHostRequest,
  CreateHostResponse,
  Deployment,
  DeploymentDecision,
  DeploymentList,
  DeploymentListQuery,
  DeploymentWithLog,
  Health,
  HealthDetails,
  Host,
  HostList,
  HostListQuery,
  LogPage,
  LogQuery,
  RebootAnswer,
  RebootHostRequest,
  RollbackRequest,
} from './api.js';
import {
  ApiTokenList,
  ChangePasswordRequest,
  CodeRequest,
  CreatedToken,
  CreateTokenRequest,
  CreateUserRequest,
  CreateUserResponse,
  LoggedOut,
  LoginRequest,
  Me,
  RecoveryCodes,
  SessionAnswer,
  SetupRequest,
  StepUpAnswer,
  TokenLoginRequest,
  TotpEnrollment,
  UpdateUserRequest,
  User,
  UserList,
  Username,
} from './auth.js';
import { CacheInfo } from './cache.js';
import { LIVE_EVENT_SCHEMAS } from './events.js';
import {
  CheckDraftRequest,
  CommitDraftRequest,
  CommitDraftResult,
  CreateDraftRequest,
  DiscardedDraft,
  Draft,
  DraftCheck,
  DraftList,
  DraftSummary,
  EditorFile,
  EditorFileQuery,
  EditorTree,
  EditorTreeQuery,
  RebaseDraftRequest,
  SaveDraftFileRequest,
  SaveDraftRequest,
} from './editor.js';
import {
  EnrollAgentRequest,
  EnrollAgentResponse,
  EnrollmentToken,
  IssueEnrollmentRequest,
  RevokeHostRequest,
  RevokeHostResponse,
} from './identity.js';
import { HostName } from './messages.js';
import { NotificationList, NotificationListQuery } from './notifications.js';
import { DeploymentPlan } from './plan.js';
import {
  Build,
  BuildList,
  BuildListQuery,
  BuildLogLine,
  BuildLogPage,
  BuildStatus,
  FlakeHostList,
  Preview,
  Release,
  ReleaseList,
  ReleaseListQuery,
} from './pipeline.js';
import {
  AuditList,
  AuditQuery,
  DecisionRequest,
  DecisionResult,
  GraduationList,
  HostPolicy,
  HostPolicyList,
  PendingApprovalList,
  PinRequest,
  ResumeRolloutRequest,
  Rollout,
  SetPolicyRequest,
  WaveList,
  DeployWindowList,
} from './policy.js';
import {
  CreatePreviewRequest,
  CreatePreviewResponse,
  LinkRepositoryRequest,
  Repository,
  Revision,
  RevisionList,
  RevisionListQuery,
  SyncResult,
  WebhookAnswer,
  WebhookInfo,
} from './repository.js';
import { FleetOverview } from './overview.js';
import { RevisionPipelineStatus, RevisionSelector } from './revision-status.js';
import { HostStatusReport } from './status.js';
import { WebAssetName, WebPage } from './web.js';

/**
 * Who may call a route. People and tools by role, each including the ones before it:
 * `viewer` reads, `operator` also decides (approve, reject, deploy, roll back, reboot,
 * cancel, pin), `admin` also changes settings (policies, the repository, hosts, users).
 * `public`: anyone (health, the OpenAPI document); `host`: an agent as its own host (the
 * agent gateway, by signing a challenge with its enrolled key; the binary cache, with a
 * short-lived credential issued over that connection); `enrollment`: a host proving a
 * one-time enrollment token; `webhook`: a caller that proves itself by signing the body
 * (GitHub).
 */
export type Access = 'public' | 'viewer' | 'operator' | 'admin' | 'host' | 'enrollment' | 'webhook';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Destructive actions ask a user with TOTP for a fresh code (`X-Flotilla-TOTP`, or a
 * session that gave one in the last minutes): always, or when a body field has a value.
 */
export type StepUp = 'always' | { bodyField: string; equals: string };

/** What a route answers: JSON of a schema, a stream of server-sent events, or raw bytes. */
export type ContractResponse =
  | { kind: 'json'; status: number; schema: z.ZodType }
  | {
      kind: 'sse';
      status: number;
      /** Event name → the schema of its JSON `data`. */
      events: Record<string, z.ZodType>;
      description: string;
    }
  | { kind: 'raw'; status: number; contentType: string; description: string }
  | { kind: 'websocket'; description: string };

/** One API route, declared once: the controller serves it, OpenAPI documents it, clients call it. */
export interface Contract {
  method: HttpMethod;
  /** Path with `:param` placeholders, e.g. `/api/v1/hosts/:name`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  stepUp?: StepUp;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  response: ContractResponse;
}

function contract<const C extends Contract>(c: C): C {
  return c;
}

function json<S extends z.ZodType>(schema: S, status = 200) {
  return { kind: 'json' as const, status, schema };
}

const NameParams = z.object({ name: HostName });
const IdParams = z.object({ id: z.string().min(1).max(64) });
const FileParams = z.object({ file: z.string().min(1).max(200) });
const CacheNameParams = z.object({ name: z.string().min(1).max(200) });
const StreamQuery = z.object({ after: z.coerce.number().int().min(0).optional() });
const ErrorEnvelopeDoc = 'errors answer with `{"error": {"code", "message", "details"}}`';

/** Every route of the controller, by name. */
export const api = {
  // ---- hosts ----
  listHosts: contract({
    method: 'GET',
    path: '/api/v1/hosts',
    summary: 'List hosts with live status, facts and running revision (paginated by name)',
    tag: 'hosts',
    access: 'viewer',
    query: HostListQuery,
    response: json(HostList),
  }),
  overview: contract({
    method: 'GET',
    path: '/api/v1/overview',
    summary:
      'Every host with its status, facts, running revision, policy, graduation, pin, waiting approvals and last deployment, in one answer (the fleet view)',
    tag: 'hosts',
    access: 'viewer',
    response: json(FleetOverview),
  }),
  createHost: contract({
    method: 'POST',
    path: '/api/v1/hosts',
    summary:
      'Register a host; returns its one-time enrollment token once (valid 1 h unless the request says otherwise)',
    tag: 'hosts',
    access: 'admin',
    body: CreateHostRequest,
    response: json(CreateHostResponse, 201),
  }),
  getHost: contract({
    method: 'GET',
    path: '/api/v1/hosts/:name',
    summary: 'Get one host',
    tag: 'hosts',
    access: 'viewer',
    params: NameParams,
    response: json(Host),
  }),
  removeHost: contract({
    method: 'DELETE',
    stepUp: 'always',
    path: '/api/v1/hosts/:name',
    summary:
      'Remove a host: its key and enrollment tokens stop working, its agent is disconnected, its deployments and policy go (the audit log keeps what happened)',
    tag: 'hosts',
    access: 'admin',
    params: NameParams,
    response: json(z.object({ removed: z.string(), deploymentsRemoved: z.number() })),
  }),
  issueEnrollment: contract({
    method: 'POST',
    stepUp: 'always',
    path: '/api/v1/hosts/:name/enrollment',
    summary:
      "Issue a fresh one-time enrollment token to (re-)enroll a host (shown once); the host's current key works until the new enrollment completes",
    tag: 'hosts',
    access: 'admin',
    params: NameParams,
    body: IssueEnrollmentRequest,
    response: json(EnrollmentToken, 201),
  }),
  revokeHost: contract({
    method: 'POST',
    stepUp: 'always',
    path: '/api/v1/hosts/:name/revoke',
    summary:
      "Revoke a host's key and unused enrollment tokens; its live agent connection is closed at once and it reconnects only after enrolling again",
    tag: 'hosts',
    access: 'admin',
    params: NameParams,
    body: RevokeHostRequest,
    response: json(RevokeHostResponse),
  }),
  getHostStatus: contract({
    method: 'GET',
    path: '/api/v1/hosts/:name/status',
    summary:
      'Where a host stands, as one story: declared, built, pending, running, verified, pinned, drifted',
    tag: 'hosts',
    access: 'viewer',
    params: NameParams,
    response: json(HostStatusReport),
  }),
  rollbackHost: contract({
    method: 'POST',
    stepUp: 'always',
    path: '/api/v1/hosts/:name/rollback',
    summary:
      'Roll a host back to the system last verified before the current one (never to one a rollback left), or to a generation; pins the host',
    tag: 'hosts',
    access: 'operator',
    params: NameParams,
    body: RollbackRequest,
    response: json(DeploymentDecision, 201),
  }),
  rebootHost: contract({
    method: 'POST',
    stepUp: 'always',
    path: '/api/v1/hosts/:name/reboot',
    summary:
      'Reboot a managed host (the host name typed out in `confirm`); the agent reports back after the boot',
    tag: 'hosts',
    access: 'operator',
    params: NameParams,
    body: RebootHostRequest,
    response: json(RebootAnswer, 202),
  }),
  setPolicy: contract({
    method: 'PUT',
    stepUp: { bodyField: 'policy', equals: 'auto' },
    path: '/api/v1/hosts/:name/policy',
    summary:
      "Set a host's policy (manual, auto, monitor); auto needs graduation or force with a reason; refused when the config file owns it",
    tag: 'policies',
    access: 'admin',
    params: NameParams,
    body: SetPolicyRequest,
    response: json(HostPolicy),
  }),
  pinHost: contract({
    method: 'POST',
    path: '/api/v1/hosts/:name/pin',
    summary: 'Pin a host: auto deployments stop moving it forward',
    tag: 'policies',
    access: 'operator',
    params: NameParams,
    body: PinRequest,
    response: json(HostPolicy),
  }),
  unpinHost: contract({
    method: 'DELETE',
    path: '/api/v1/hosts/:name/pin',
    summary: "Lift a host's pin",
    tag: 'policies',
    access: 'operator',
    params: NameParams,
    response: json(HostPolicy),
  }),

  // ---- deployments ----
  createDeployment: contract({
    method: 'POST',
    path: '/api/v1/deployments',
    summary:
      "Deploy a release or a store path to a host: counts as the caller's approval and passes the same gate as every deployment (waves and windows hold it unless forced with a reason)",
    tag: 'deployments',
    access: 'operator',
    body: CreateDeploymentRequest,
    response: json(DeploymentDecision, 201),
  }),
  listDeployments: contract({
    method: 'GET',
    path: '/api/v1/deployments',
    summary: 'List deployments, newest first (by host, status or revision)',
    tag: 'deployments',
    access: 'viewer',
    query: DeploymentListQuery,
    response: json(DeploymentList),
  }),
  getDeployment: contract({
    method: 'GET',
    path: '/api/v1/deployments/:id',
    summary: 'Get a deployment with its status and log',
    tag: 'deployments',
    access: 'viewer',
    params: IdParams,
    response: json(DeploymentWithLog),
  }),
  getDeploymentPlan: contract({
    method: 'GET',
    path: '/api/v1/deployments/:id/plan',
    summary:
      "What a deployment will change on its host, prepared by the host's agent while it waits: the closure difference against the running system, the units activation stops, starts, restarts and reloads, and whether a reboot is needed",
    tag: 'deployments',
    access: 'viewer',
    params: IdParams,
    response: json(DeploymentPlan),
  }),
  getDeploymentLog: contract({
    method: 'GET',
    path: '/api/v1/deployments/:id/log',
    summary: 'Read a deployment log after a sequence number (for following it live)',
    tag: 'deployments',
    access: 'viewer',
    params: IdParams,
    query: LogQuery,
    response: json(LogPage),
  }),
  cancelDeployment: contract({
    method: 'POST',
    path: '/api/v1/deployments/:id/cancel',
    summary:
      'Cancel a deployment nothing was sent for yet (waiting for approval, held, or queued for an offline host)',
    tag: 'deployments',
    access: 'operator',
    params: IdParams,
    body: CancelDeploymentRequest,
    response: json(Deployment),
  }),

  // ---- approvals, policies, rollouts ----
  listApprovals: contract({
    method: 'GET',
    path: '/api/v1/approvals',
    summary: 'Deployments waiting for a human',
    tag: 'approvals',
    access: 'viewer',
    response: json(PendingApprovalList),
  }),
  decide: contract({
    method: 'POST',
    path: '/api/v1/approvals',
    summary:
      'Approve or reject: one deployment, a release, or a revision in bulk (hosts, wave); a bulk decision is all or nothing',
    tag: 'approvals',
    access: 'operator',
    body: DecisionRequest,
    response: json(DecisionResult),
  }),
  listPolicies: contract({
    method: 'GET',
    path: '/api/v1/policies',
    summary: 'Every host with its mode, policy, pin and wave',
    tag: 'policies',
    access: 'viewer',
    response: json(HostPolicyList),
  }),
  graduation: contract({
    method: 'GET',
    path: '/api/v1/graduation',
    summary: "Each host's progress towards auto, and who is eligible (reads only)",
    tag: 'policies',
    access: 'viewer',
    response: json(GraduationList),
  }),
  listWaves: contract({
    method: 'GET',
    path: '/api/v1/waves',
    summary: 'The configured rollout waves',
    tag: 'rollouts',
    access: 'viewer',
    response: json(WaveList),
  }),
  listWindows: contract({
    method: 'GET',
    path: '/api/v1/windows',
    summary:
      'The deploy windows of the config file per host and wave, and whether each is open now',
    tag: 'rollouts',
    access: 'viewer',
    response: json(DeployWindowList),
  }),
  getRollout: contract({
    method: 'GET',
    path: '/api/v1/rollouts/:id',
    summary: "Where a revision's rollout stands, wave by wave; hosts it does not change say so",
    tag: 'rollouts',
    access: 'viewer',
    params: IdParams,
    response: json(Rollout),
  }),
  resumeRollout: contract({
    method: 'POST',
    path: '/api/v1/rollouts/:id/resume',
    summary: "Lift a revision's halt (with a reason); its held deployments move on",
    tag: 'rollouts',
    access: 'operator',
    params: IdParams,
    body: ResumeRolloutRequest,
    response: json(Rollout),
  }),
  listAudit: contract({
    method: 'GET',
    path: '/api/v1/audit',
    summary: 'Every action and transition with actor, time and reason, newest first',
    tag: 'audit',
    access: 'viewer',
    query: AuditQuery,
    response: json(AuditList),
  }),
  listNotifications: contract({
    method: 'GET',
    path: '/api/v1/notifications',
    summary: 'Recent notifications with the state of each delivery, newest first',
    tag: 'notifications',
    access: 'viewer',
    query: NotificationListQuery,
    response: json(NotificationList),
  }),

  // ---- pipeline ----
  listBuilds: contract({
    method: 'GET',
    path: '/api/v1/builds',
    summary: 'List builds, newest first',
    tag: 'builds',
    access: 'viewer',
    query: BuildListQuery,
    response: json(BuildList),
  }),
  getBuild: contract({
    method: 'GET',
    path: '/api/v1/builds/:id',
    summary: 'Get a build (a failed build carries its Nix error in errorSummary)',
    tag: 'builds',
    access: 'viewer',
    params: IdParams,
    response: json(Build),
  }),
  getBuildLog: contract({
    method: 'GET',
    path: '/api/v1/builds/:id/log',
    summary: 'Read a build log after a sequence number',
    tag: 'builds',
    access: 'viewer',
    params: IdParams,
    query: LogQuery,
    response: json(BuildLogPage),
  }),
  streamBuildLog: contract({
    method: 'GET',
    path: '/api/v1/builds/:id/log/stream',
    summary:
      'The build log as server-sent events: stored lines after `after` (or Last-Event-ID), then live lines, then `end`',
    tag: 'builds',
    access: 'viewer',
    params: IdParams,
    query: StreamQuery,
    response: {
      kind: 'sse',
      status: 200,
      events: {
        line: BuildLogLine,
        end: z.object({ status: BuildStatus, errorSummary: z.string().nullable() }),
      },
      description:
        'text/event-stream; each `line` event has the line number as its id, so a client resumes with Last-Event-ID',
    },
  }),
  cancelBuild: contract({
    method: 'POST',
    path: '/api/v1/builds/:id/cancel',
    summary: 'Cancel a queued or running build',
    tag: 'builds',
    access: 'operator',
    params: IdParams,
    response: json(Build),
  }),
  retryBuild: contract({
    method: 'POST',
    path: '/api/v1/builds/:id/retry',
    summary: 'Queue a failed or cancelled build again (a new attempt)',
    tag: 'builds',
    access: 'operator',
    params: IdParams,
    response: json(Build, 201),
  }),
  listReleases: contract({
    method: 'GET',
    path: '/api/v1/releases',
    summary: 'List releases, newest first',
    tag: 'releases',
    access: 'viewer',
    query: ReleaseListQuery,
    response: json(ReleaseList),
  }),
  getRelease: contract({
    method: 'GET',
    path: '/api/v1/releases/:id',
    summary: 'Get a release',
    tag: 'releases',
    access: 'viewer',
    params: IdParams,
    response: json(Release),
  }),
  getPreview: contract({
    method: 'GET',
    path: '/api/v1/previews/:id',
    summary: 'Which hosts a previewed ref rebuilds, and by how much',
    tag: 'previews',
    access: 'viewer',
    params: IdParams,
    response: json(Preview),
  }),
  createPreview: contract({
    method: 'POST',
    path: '/api/v1/previews',
    summary: 'Record a preview revision for a ref such as refs/pull/12/head',
    tag: 'previews',
    access: 'viewer',
    body: CreatePreviewRequest,
    response: json(CreatePreviewResponse),
  }),
  flakeHosts: contract({
    method: 'GET',
    path: '/api/v1/flake/hosts',
    summary: "The flake's hosts joined with the registry (discovered and missing hosts)",
    tag: 'repository',
    access: 'viewer',
    response: json(FlakeHostList),
  }),

  // ---- repository ----
  getRepository: contract({
    method: 'GET',
    path: '/api/v1/repository',
    summary: 'Show the linked repository and its sync state (credentials removed)',
    tag: 'repository',
    access: 'viewer',
    response: json(Repository),
  }),
  linkRepository: contract({
    method: 'PUT',
    stepUp: 'always',
    path: '/api/v1/repository',
    summary: 'Link the flake repository (refused when the config file links it)',
    tag: 'repository',
    access: 'admin',
    body: LinkRepositoryRequest,
    response: json(Repository),
  }),
  syncRepository: contract({
    method: 'POST',
    path: '/api/v1/repository/sync',
    summary: 'Fetch now and record what is new',
    tag: 'repository',
    access: 'operator',
    response: json(SyncResult),
  }),
  listRevisions: contract({
    method: 'GET',
    path: '/api/v1/revisions',
    summary: 'List recorded revisions, newest first',
    tag: 'repository',
    access: 'viewer',
    query: RevisionListQuery,
    response: json(RevisionList),
  }),
  getRevision: contract({
    method: 'GET',
    path: '/api/v1/revisions/:id',
    summary: 'Get one revision (with per-host evaluation errors)',
    tag: 'repository',
    access: 'viewer',
    params: IdParams,
    response: json(Revision),
  }),
  getWebhookInfo: contract({
    method: 'GET',
    path: '/api/v1/webhook',
    summary:
      "The GitHub webhook's path and whether a secret to check deliveries is configured (never the secret)",
    tag: 'repository',
    access: 'viewer',
    response: json(WebhookInfo),
  }),
  getRevisionStatus: contract({
    method: 'GET',
    path: '/api/v1/revisions/:rev/status',
    summary:
      'Where one commit stands, host by host: evaluation (error with file and line), build, release, deployment. `rev`: a revision id, a commit id or prefix (7+ hex digits), HEAD or the branch name, or a previewed ref',
    tag: 'repository',
    access: 'viewer',
    params: z.object({ rev: RevisionSelector }),
    response: json(RevisionPipelineStatus),
  }),
  githubWebhook: contract({
    method: 'POST',
    path: '/api/v1/webhooks/github',
    summary:
      "GitHub's push and pull_request webhook; authenticated by the X-Hub-Signature-256 HMAC of the raw body",
    tag: 'repository',
    access: 'webhook',
    response: json(WebhookAnswer, 202),
  }),

  // ---- web editor (paths relative to the repository root; every route admin-only) ----
  editorTree: contract({
    method: 'GET',
    path: '/api/v1/editor/tree',
    summary:
      "List the tracked branch's files and directories at its head (or a commit of the branch), paths relative to the repository root",
    tag: 'editor',
    access: 'admin',
    query: EditorTreeQuery,
    response: json(EditorTree),
  }),
  editorFile: contract({
    method: 'GET',
    path: '/api/v1/editor/file',
    summary:
      'Read a text file of the tracked branch at its head (or a commit of the branch); file_not_text, file_too_large or file_not_found otherwise',
    tag: 'editor',
    access: 'admin',
    query: EditorFileQuery,
    response: json(EditorFile),
  }),
  listDrafts: contract({
    method: 'GET',
    path: '/api/v1/editor/drafts',
    summary: "The caller's drafts, newest change first (without file contents)",
    tag: 'editor',
    access: 'admin',
    response: json(DraftList),
  }),
  createDraft: contract({
    method: 'POST',
    path: '/api/v1/editor/drafts',
    summary:
      'Start a draft on the branch head (or a commit of the branch); it is kept until committed or discarded',
    tag: 'editor',
    access: 'admin',
    body: CreateDraftRequest,
    response: json(Draft, 201),
  }),
  getDraft: contract({
    method: 'GET',
    path: '/api/v1/editor/drafts/:id',
    summary: "One of the caller's drafts with the new contents of its files and its last check",
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    response: json(Draft),
  }),
  saveDraft: contract({
    method: 'PUT',
    path: '/api/v1/editor/drafts/:id',
    summary:
      "Replace a draft's message and all of its changes (draft_stale when `revision` is not the draft's)",
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    body: SaveDraftRequest,
    response: json(DraftSummary),
  }),
  saveDraftFile: contract({
    method: 'PUT',
    path: '/api/v1/editor/drafts/:id/files',
    summary:
      "Save one file of a draft as the editor types: write it, delete it, or revert it to the draft's base",
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    body: SaveDraftFileRequest,
    response: json(DraftSummary),
  }),
  discardDraft: contract({
    method: 'DELETE',
    path: '/api/v1/editor/drafts/:id',
    summary: 'Throw a draft away (recorded in the audit log)',
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    response: json(DiscardedDraft),
  }),
  checkDraft: contract({
    method: 'POST',
    path: '/api/v1/editor/drafts/:id/check',
    summary:
      'Evaluate the draft applied to the branch head, as the pipeline would, without pushing: per host unchanged, rebuild, added, removed or error (message, file:line)',
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    body: CheckDraftRequest,
    response: json(DraftCheck),
  }),
  rebaseDraft: contract({
    method: 'POST',
    path: '/api/v1/editor/drafts/:id/rebase',
    summary:
      'Move a draft onto the branch head: clean merges are taken, conflicting files need a resolution (draft_conflict otherwise, the draft unchanged)',
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    body: RebaseDraftRequest,
    response: json(Draft),
  }),
  commitDraft: contract({
    method: 'POST',
    path: '/api/v1/editor/drafts/:id/commit',
    summary:
      'Check the draft again, commit it as the caller onto the fetched branch head (merged when the branch moved) and push; draft_conflict or draft_check_failed keep the draft and push nothing',
    tag: 'editor',
    access: 'admin',
    params: IdParams,
    body: CommitDraftRequest,
    response: json(CommitDraftResult, 201),
  }),

  // ---- binary cache ----
  getCacheInfo: contract({
    method: 'GET',
    path: '/api/v1/cache',
    summary: "The binary cache's public signing key, path and push target",
    tag: 'cache',
    access: 'viewer',
    response: json(CacheInfo),
  }),
  cacheInfoFile: contract({
    method: 'GET',
    path: '/cache/nix-cache-info',
    summary:
      "Nix binary cache: store layout and priority (a host's short-lived cache credential, Basic or Bearer)",
    tag: 'cache',
    access: 'host',
    response: {
      kind: 'raw',
      status: 200,
      contentType: 'text/x-nix-cache-info',
      description: 'StoreDir, WantMassQuery, Priority',
    },
  }),
  cacheNarinfo: contract({
    method: 'GET',
    path: '/cache/:name',
    summary:
      "Nix binary cache: `<hash>.narinfo` of a path in one of the host's releases (cache credential)",
    tag: 'cache',
    access: 'host',
    params: CacheNameParams,
    response: {
      kind: 'raw',
      status: 200,
      contentType: 'text/x-nix-narinfo',
      description: 'signed narinfo; 404 for paths the host may not read',
    },
  }),
  cacheNar: contract({
    method: 'GET',
    path: '/cache/nar/:file',
    summary:
      "Nix binary cache: a NAR file holding a path of one of the host's releases (cache credential)",
    tag: 'cache',
    access: 'host',
    params: FileParams,
    response: {
      kind: 'raw',
      status: 200,
      contentType: 'application/x-nix-nar',
      description: 'the (compressed) NAR, streamed',
    },
  }),
  enrollAgent: contract({
    method: 'POST',
    path: '/api/v1/agent/enroll',
    summary:
      'An agent enrolls: it proves a one-time enrollment token and registers the Ed25519 public key it generated (the private key never leaves the host); the token is used up',
    tag: 'agents',
    access: 'enrollment',
    body: EnrollAgentRequest,
    response: json(EnrollAgentResponse, 201),
  }),
  agentGateway: contract({
    method: 'GET',
    path: '/api/v1/agent/ws',
    summary:
      "Agents' WebSocket: no secret at the upgrade; the controller sends a challenge, the agent signs it with its enrolled key in its hello; then the protocol's agent⇄controller messages",
    tag: 'agents',
    access: 'host',
    response: {
      kind: 'websocket',
      description: 'WebSocket upgrade (101); see the protocol package for the messages',
    },
  }),

  // ---- people and tools ----
  setup: contract({
    method: 'POST',
    path: '/api/v1/setup',
    summary:
      'Create the first admin with the one-time setup token printed at first start (refused once a user exists)',
    tag: 'auth',
    access: 'public',
    body: SetupRequest,
    response: json(User, 201),
  }),
  login: contract({
    method: 'POST',
    path: '/api/v1/auth/session',
    summary: 'Log in for a browser: sets the HttpOnly session cookie and answers the CSRF token',
    tag: 'auth',
    access: 'public',
    body: LoginRequest,
    response: json(SessionAnswer, 201),
  }),
  logout: contract({
    method: 'DELETE',
    path: '/api/v1/auth/session',
    summary: "End this browser's session",
    tag: 'auth',
    access: 'viewer',
    response: json(LoggedOut),
  }),
  logoutEverywhere: contract({
    method: 'POST',
    path: '/api/v1/auth/logout-everywhere',
    summary: "End every session of the caller's user",
    tag: 'auth',
    access: 'viewer',
    response: json(LoggedOut),
  }),
  tokenLogin: contract({
    method: 'POST',
    path: '/api/v1/auth/token',
    summary: 'Credentials in, an API token out (what `flotilla login` stores)',
    tag: 'auth',
    access: 'public',
    body: TokenLoginRequest,
    response: json(CreatedToken, 201),
  }),
  stepUp: contract({
    method: 'POST',
    path: '/api/v1/auth/step-up',
    summary: 'Give a fresh TOTP code: destructive actions need no other for a few minutes',
    tag: 'auth',
    access: 'viewer',
    body: CodeRequest,
    response: json(StepUpAnswer),
  }),
  me: contract({
    method: 'GET',
    path: '/api/v1/me',
    summary: 'Who is asking, with which role, and how',
    tag: 'auth',
    access: 'viewer',
    response: json(Me),
  }),
  changePassword: contract({
    method: 'PUT',
    path: '/api/v1/me/password',
    summary: "Change the caller's password (every other session ends)",
    tag: 'auth',
    access: 'viewer',
    body: ChangePasswordRequest,
    response: json(User),
  }),
  startTotp: contract({
    method: 'POST',
    path: '/api/v1/me/totp',
    summary: 'Start TOTP enrollment: a secret for an authenticator app',
    tag: 'auth',
    access: 'viewer',
    response: json(TotpEnrollment),
  }),
  confirmTotp: contract({
    method: 'POST',
    path: '/api/v1/me/totp/confirm',
    summary: 'Finish TOTP enrollment with a code; answers recovery codes, once',
    tag: 'auth',
    access: 'viewer',
    body: CodeRequest,
    response: json(RecoveryCodes),
  }),
  disableTotp: contract({
    method: 'DELETE',
    path: '/api/v1/me/totp',
    summary: "Turn the caller's TOTP off (needs a current code)",
    tag: 'auth',
    access: 'viewer',
    body: CodeRequest,
    response: json(User),
  }),
  listUsers: contract({
    method: 'GET',
    path: '/api/v1/users',
    summary: 'Every user with role and TOTP state',
    tag: 'auth',
    access: 'admin',
    response: json(UserList),
  }),
  createUser: contract({
    method: 'POST',
    path: '/api/v1/users',
    summary: 'Add a user; a generated password is shown once',
    tag: 'auth',
    access: 'admin',
    body: CreateUserRequest,
    response: json(CreateUserResponse, 201),
  }),
  updateUser: contract({
    method: 'PATCH',
    stepUp: 'always',
    path: '/api/v1/users/:username',
    summary: "Change a user's role, disable them, reset their password or TOTP",
    tag: 'auth',
    access: 'admin',
    params: z.object({ username: Username }),
    body: UpdateUserRequest,
    response: json(CreateUserResponse),
  }),
  listTokens: contract({
    method: 'GET',
    path: '/api/v1/tokens',
    summary: "The caller's API tokens (an admin sees everyone's with all=true)",
    tag: 'auth',
    access: 'viewer',
    query: z.object({ all: z.enum(['true', 'false']).optional() }),
    response: json(ApiTokenList),
  }),
  createToken: contract({
    method: 'POST',
    path: '/api/v1/tokens',
    summary: 'A new API token for the caller, at most as strong as the caller; shown once',
    tag: 'auth',
    access: 'viewer',
    body: CreateTokenRequest,
    response: json(CreatedToken, 201),
  }),
  revokeToken: contract({
    method: 'DELETE',
    path: '/api/v1/tokens/:id',
    summary: 'Revoke an API token (your own; an admin any)',
    tag: 'auth',
    access: 'viewer',
    params: IdParams,
    response: json(ApiTokenList),
  }),

  // ---- web UI ----
  webApp: contract({
    method: 'GET',
    path: '/',
    summary:
      "The web UI's page (index.html, never cached); a page saying to run `npm run build` when the app is not built",
    tag: 'web',
    access: 'public',
    response: {
      kind: 'raw',
      status: 200,
      contentType: 'text/html',
      description: 'the single-page app; it logs in and calls this API like any client',
    },
  }),
  webPage: contract({
    method: 'GET',
    path: '/:page/*',
    summary: "A page of the web UI (the app's index.html; the app shows the page)",
    tag: 'web',
    access: 'public',
    params: z.object({ page: WebPage }),
    response: {
      kind: 'raw',
      status: 200,
      contentType: 'text/html',
      description: 'the same index.html as `/`, so links and reloads of app pages work',
    },
  }),
  webAsset: contract({
    method: 'GET',
    path: '/assets/:file',
    summary: 'A file of the built web UI (hashed name, cached for a year)',
    tag: 'web',
    access: 'public',
    params: z.object({ file: WebAssetName }),
    response: {
      kind: 'raw',
      status: 200,
      contentType: 'application/octet-stream',
      description: 'JavaScript, CSS, fonts and images of the app; 404 for names it does not have',
    },
  }),

  // ---- live events ----
  events: contract({
    method: 'GET',
    path: '/api/v1/events',
    summary:
      'Live events as server-sent events: `ready` first, then what changed (hosts, deployments and their log lines, builds, approvals, releases, rollouts, the repository)',
    tag: 'events',
    access: 'viewer',
    response: {
      kind: 'sse',
      status: 200,
      events: LIVE_EVENT_SCHEMAS,
      description:
        'text/event-stream; `retry: 2000` once, then `ready`, then each event as `id` (a sequence per controller process), `event` (its type) and one line of JSON `data`; a `: keepalive` comment every 25 s. `hosts.changed` comes at most once a second. Missed events are not replayed (Last-Event-ID is ignored): refetch on `ready`. A client more than 1,000 events behind is disconnected',
    },
  }),
  // ---- meta ----
  health: contract({
    method: 'GET',
    path: '/healthz',
    summary: 'Health for load balancers: status and database only (503 when degraded)',
    tag: 'meta',
    access: 'public',
    response: json(Health),
  }),
  healthDetails: contract({
    method: 'GET',
    path: '/api/v1/health',
    summary: 'Health with version and agents connected (503 when degraded)',
    tag: 'meta',
    access: 'viewer',
    response: json(HealthDetails),
  }),
  openApi: contract({
    method: 'GET',
    path: '/api/v1/openapi.json',
    summary: 'This API, as an OpenAPI 3.1 document',
    tag: 'meta',
    access: 'public',
    response: json(z.record(z.string(), z.unknown())),
  }),
} as const;

export type Api = typeof api;
export type ContractName = keyof Api;

/** Routes that answer JSON: the ones a typed client calls. */
export type JsonContractName = {
  [K in ContractName]: Api[K]['response'] extends { kind: 'json' } ? K : never;
}[ContractName];

type InputOf<S> = S extends z.ZodType ? z.input<S> : never;
type OutputOf<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a caller passes: the route's params, query and body (only those it has). */
export type ContractInput<C extends Contract> = (C extends { params: z.ZodType }
  ? { params: InputOf<C['params']> }
  : { params?: undefined }) &
  (C extends { query: z.ZodType } ? { query?: InputOf<C['query']> } : { query?: undefined }) &
  (C extends { body: z.ZodType } ? { body: InputOf<C['body']> } : { body?: undefined });

/** What a handler receives, parsed: params, query and body as the schemas output them. */
export interface ContractArgs<C extends Contract> {
  params: C extends { params: z.ZodType } ? OutputOf<C['params']> : undefined;
  query: C extends { query: z.ZodType } ? OutputOf<C['query']> : undefined;
  body: C extends { body: z.ZodType } ? OutputOf<C['body']> : undefined;
}

/** What a JSON route answers. */
export type ContractOutput<C extends Contract> = C['response'] extends {
  kind: 'json';
  schema: infer S;
}
  ? OutputOf<S>
  : never;

/** The path of a route with its `:params` filled in (each value URI-encoded). */
export function contractPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params?.[name];
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

/** Note for documents: how errors answer. */
export const ERROR_ENVELOPE_DESCRIPTION = ErrorEnvelopeDoc;
