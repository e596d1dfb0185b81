import type { DeploymentStatus, PlanState } from '@flotilla/protocol';
import type { Generated } from 'kysely';

/**
 * Table types for Kysely. Timestamps are ISO-8601 text so that SQLite and PostgreSQL
 * store and sort them the same way; JSON columns are text for the same reason.
 */
export interface HostsTable {
  name: string;
  mode: 'managed' | 'monitor';
  os: 'linux' | 'darwin' | null;
  created_at: string;
  agent_version: string | null;
  protocol_version: number | null;
  last_connected_at: string | null;
  last_seen_at: string | null;
  facts_json: string | null;
  facts_at: string | null;
  metrics_json: string | null;
}

/** An agent's Ed25519 public key; at most one per host has no `revoked_at`. */
export interface AgentKeysTable {
  id: string;
  host_name: string;
  /** The 32 raw bytes, base64url. */
  public_key: string;
  /** `SHA256:<base64>`; unique, so a key is never enrolled twice. */
  fingerprint: string;
  enrolled_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

/** A one-time enrollment token, by its SHA-256 (hex); the token itself is never stored. */
export interface EnrollmentTokensTable {
  token_hash: string;
  host_name: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  used_at: string | null;
  /** The key it enrolled, once used. */
  key_id: string | null;
  /** Superseded by a newer token, or the host was revoked. */
  revoked_at: string | null;
}

export interface DeploymentsTable {
  id: string;
  host_name: string;
  store_path: string;
  action: 'switch' | 'boot' | 'test' | 'dry-activate';
  status: DeploymentStatus;
  phase: string | null;
  actor: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  error_code: string | null;
  error_message: string | null;
  result_system: string | null;
  /** The release this deployment puts on the host, when it came from the pipeline. */
  release_id: string | null;
  /** 'deploy', or 'rollback' for a manual rollback to an earlier generation. */
  kind: Generated<'deploy' | 'rollback'>;
  /** The system the host ran before, as the agent recorded it. */
  previous_system: string | null;
  /** 0 or 1: the deployed system needs a reboot to be complete. */
  reboot_required: Generated<number>;
  /** The revision a pipeline release came from (for rollouts through waves). */
  revision_id: string | null;
  approved_by: string | null;
  approved_at: string | null;
  approval_comment: string | null;
  /** 0 or 1: approved to run outside the host's deploy windows. */
  override_window: Generated<number>;
  /** Why an approved deployment still waits (wave, soak, window), for people. */
  hold_reason: string | null;
  /** The last log sequence number handed out (see DeploymentRepository.appendLog). */
  log_seq: Generated<number>;
  /** 0 or 1: a person skipped the earlier waves of the rollout (`--force`). */
  override_wave: Generated<number>;
  /** Why a person skipped a wave, a window or a quarantine. */
  force_reason: string | null;
}

export interface HostPoliciesTable {
  host_name: string;
  /** A monitor host is one whose `hosts.mode` is `monitor`; its row keeps manual/auto. */
  policy: 'manual' | 'auto';
  source: 'default' | 'api' | 'config' | 'demoted';
  stable_since: string | null;
  pinned: Generated<number>;
  pin_reason: string | null;
  eligible_notified_at: string | null;
  updated_at: string;
  updated_by: string;
}

export interface QuarantinedReleasesTable {
  release_id: string;
  host_name: string;
  reason: string;
  at: string;
}

export interface RolloutHaltsTable {
  revision_id: string;
  reason: string;
  at: string;
}

export interface DeploymentLogsTable {
  deployment_id: string;
  seq: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'agent';
  line: string;
}

/** When a deployment first entered each phase its agent reported. */
export interface DeploymentPhasesTable {
  deployment_id: string;
  phase: string;
  at: string;
}

/** Append-only record of what happened: transitions, actions and who took them. */
export interface EventsTable {
  id: Generated<number>;
  at: string;
  kind: string;
  actor: string;
  host_name: string | null;
  deployment_id: string | null;
  data_json: string | null;
}

export interface RepositoriesTable {
  id: string;
  url: string;
  branch: string;
  flake_dir: string;
  auth_kind: 'none' | 'token' | 'ssh_key';
  ssh_key_file: string | null;
  poll_interval_seconds: number;
  /** 0 or 1 (SQLite has no boolean). */
  allow_force_push: number;
  source: 'config' | 'api';
  followed_sha: string | null;
  last_fetch_at: string | null;
  last_fetch_error: string | null;
  created_at: string;
  updated_at: string;
  /** A rewritten head reported but not followed; null when none. */
  force_push_sha: string | null;
  force_push_at: string | null;
}

export interface RevisionsTable {
  id: string;
  repository_id: string;
  sha: string;
  ref: string;
  kind: 'branch' | 'preview';
  message: string;
  author: string;
  committed_at: string;
  discovered_at: string;
  status: 'pending' | 'evaluating' | 'evaluated' | 'failed';
  error_text: string | null;
  evaluation_json: string | null;
  evaluated_at: string | null;
  base_revision_id: string | null;
}

export interface BuildsTable {
  id: string;
  revision_id: string;
  host_name: string;
  drv_path: string;
  kind: 'release' | 'preview';
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  attempt: number;
  builders: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  out_path: string | null;
  /** Bytes; PostgreSQL returns bigint as a string, so read it through Number(). */
  closure_size: number | string | null;
  error_summary: string | null;
  log_bytes: Generated<number>;
  log_truncated: Generated<number>;
}

export interface BuildLogsTable {
  build_id: string;
  seq: number;
  at: string;
  line: string;
}

export interface ReleasesTable {
  id: string;
  host_name: string;
  revision_id: string;
  build_id: string;
  drv_path: string;
  store_path: string;
  closure_size: number | string | null;
  previous_release_id: string | null;
  status: 'publishing' | 'ready' | 'superseded' | 'deployed' | 'quarantined';
  created_at: string;
}

export interface ReleasePathsTable {
  release_id: string;
  host_name: string;
  store_hash: string;
}

export interface CacheNarsTable {
  nar_file: string;
  store_hash: string;
}

/** The notification outbox: one row per notification raised. */
export interface NotificationsTable {
  id: string;
  kind: string;
  host_name: string | null;
  /** `{"summary": text, "data": object}` */
  payload_json: string;
  created_at: string;
}

/** One receiver's delivery of a notification, retried with backoff until it ends. */
export interface NotificationDeliveriesTable {
  id: string;
  notification_id: string;
  /** Stable receiver name from the config, e.g. `webhook:0`. */
  receiver: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: string | null;
  /** Why the last attempt failed; never holds a secret or a receiver URL. */
  last_error: string | null;
  delivered_at: string | null;
}

export interface UsersTable {
  id: string;
  username: string;
  role: 'viewer' | 'operator' | 'admin';
  password_hash: string;
  totp_secret: string | null;
  totp_enabled: Generated<number>;
  totp_last_step: Generated<number>;
  failed_logins: Generated<number>;
  locked_until: string | null;
  disabled_at: string | null;
  created_at: string;
  created_by: string;
  updated_at: string;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_hash: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  stepped_up_at: string | null;
  revoked_at: string | null;
  client_address: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  scope: 'read' | 'operate' | 'admin' | 'assistant';
  token_hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface Database {
  hosts: HostsTable;
  agent_keys: AgentKeysTable;
  enrollment_tokens: EnrollmentTokensTable;
  deployments: DeploymentsTable;
  deployment_logs: DeploymentLogsTable;
  deployment_phases: DeploymentPhasesTable;
  events: EventsTable;
  repositories: RepositoriesTable;
  revisions: RevisionsTable;
  builds: BuildsTable;
  build_logs: BuildLogsTable;
  releases: ReleasesTable;
  release_paths: ReleasePathsTable;
  cache_nars: CacheNarsTable;
  host_policies: HostPoliciesTable;
  quarantined_releases: QuarantinedReleasesTable;
  rollout_halts: RolloutHaltsTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  users: UsersTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  webhook_deliveries: WebhookDeliveriesTable;
  reboot_requests: RebootRequestsTable;
  editor_drafts: EditorDraftsTable;
  editor_draft_files: EditorDraftFilesTable;
  activation_plans: ActivationPlansTable;
}

/** GitHub webhook deliveries acted on, by `X-GitHub-Delivery`; pruned after a while. */
export interface WebhookDeliveriesTable {
  id: string;
  event: string;
  received_at: string;
}

/** Reboots asked of hosts; a host's `reboot.result` is accepted only for one of its own. */
export interface RebootRequestsTable {
  id: string;
  host_name: string;
  requested_by: string;
  requested_at: string;
  answered_at: string | null;
}

/** A web editor draft: base commit, message, owner; its files are rows of their own. */
export interface EditorDraftsTable {
  id: string;
  repository_id: string;
  owner_id: string;
  branch: string;
  base_commit: string;
  message: string;
  revision: number;
  status: 'open' | 'pushing';
  pending_commit: string | null;
  pending_parent: string | null;
  pending_actor: string | null;
  check_json: string | null;
  created_at: string;
  updated_at: string;
}

/** One file a draft changes. */
export interface EditorDraftFilesTable {
  draft_id: string;
  path: string;
  kind: 'added' | 'modified' | 'deleted';
  content: string | null;
  size: number;
  base_blob: string | null;
  base_mode: string | null;
}

/** A deployment's activation plan as its agent prepared it (see migration 0010). */
export interface ActivationPlansTable {
  deployment_id: string;
  host_name: string;
  store_path: string;
  state: PlanState;
  /** An `ErrorCode` when failed or unavailable. */
  code: string | null;
  reason: string | null;
  /** The `ActivationPlan` when ready. */
  plan_json: string | null;
  /** The host's current system the plan compared with. */
  base_system: string | null;
  attempts: Generated<number>;
  requested_at: string | null;
  updated_at: string;
}
