import * as z from 'zod';
import { ErrorBody } from './errors.js';
import { Facts, HostMode, HostOs, Metrics } from './facts.js';
import { StorePath, SystemPath } from './store-path.js';
import { AgentSignature, ChallengeNonce, KeyFingerprint } from './identity.js';
import { ActivationPlan } from './plan.js';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from './version.js';

export { StorePath } from './store-path.js';

/** What `switch-to-configuration` is asked to do. */
export const DeployAction = z.enum(['switch', 'boot', 'test', 'dry-activate']);
export type DeployAction = z.infer<typeof DeployAction>;

/** A host name as used in the registry and the flake (lowercase DNS label). */
export const HostName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a lowercase host name (a-z, 0-9, -)');

// ---- agent → controller ----

/** The agent's answer to the connection's challenge: its enrolled key and a signature. */
export const AgentAuth = z.object({
  /** The fingerprint of the key the host enrolled. */
  keyId: KeyFingerprint,
  /** Ed25519 signature of `agentAuthPayload` (host, controller origin, protocol, challenge). */
  signature: AgentSignature,
});
export type AgentAuth = z.infer<typeof AgentAuth>;

/**
 * The agent's first message, sent once it has the connection's challenge. An identity acts
 * only as its own host: `host` must be the host `auth.keyId` was enrolled for.
 */
export const Hello = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int().positive(),
  host: HostName,
  os: HostOs,
  mode: HostMode,
  agentVersion: z.string().min(1).max(64),
  /** The deployment the agent is working on (its journal), so a restarted controller can reconcile. */
  activeDeploymentId: z.string().min(1).max(64).nullable().optional(),
  /** Results the agent holds that the controller has not acknowledged yet (sent right after). */
  unacknowledgedResults: z.array(z.string().min(1).max(64)).max(100).optional(),
  /**
   * Required since protocol 2; optional in the schema only so that an older agent's hello
   * is answered with a clear protocol version mismatch rather than a parse error.
   */
  auth: AgentAuth.optional(),
  /**
   * What this agent can do beyond its protocol version (see {@link AgentFeature}). Added
   * without a protocol bump: an older agent sends none, and the controller then never asks
   * it for what it would not understand.
   */
  features: z.array(z.string().min(1).max(32)).max(32).optional(),
});
export type Hello = z.infer<typeof Hello>;

/**
 * Features an agent may announce in its hello. `plan`: it answers `plan.request` (fetches
 * a waiting deployment's closure ahead and says what it will change).
 */
export type AgentFeature = 'plan';

export const FactsReport = z.object({ type: z.literal('facts'), facts: Facts });
export type FactsReport = z.infer<typeof FactsReport>;

export const Heartbeat = z.object({
  type: z.literal('heartbeat'),
  seq: z.number().int().nonnegative(),
  metrics: Metrics.optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/**
 * Where a deployment is on the host. `switch` runs: fetching → activating (as `test`) →
 * confirming (health checks, then the controller's confirmation) → committing (profile and
 * boot entry) ; on any failure: rolling_back (the recorded previous system again).
 */
export const DeployPhase = z.enum([
  'fetching',
  'setting_profile',
  'activating',
  'verifying',
  'confirming',
  'committing',
  'rolling_back',
]);
export type DeployPhase = z.infer<typeof DeployPhase>;

export const DeployProgress = z.object({
  type: z.literal('deploy.progress'),
  deploymentId: z.string().min(1).max(64),
  phase: DeployPhase,
});
export type DeployProgress = z.infer<typeof DeployProgress>;

export const LogStream = z.enum(['stdout', 'stderr', 'agent']);
export type LogStream = z.infer<typeof LogStream>;

/** Output lines of a deployment, batched to keep the message count low. */
export const DeployLog = z.object({
  type: z.literal('deploy.log'),
  deploymentId: z.string().min(1).max(64),
  lines: z
    .array(z.object({ at: z.iso.datetime(), stream: LogStream, line: z.string().max(16384) }))
    .min(1)
    .max(1000),
});
export type DeployLog = z.infer<typeof DeployLog>;

export const DeployOutcome = z.enum(['succeeded', 'failed', 'refused', 'rolled_back']);
export type DeployOutcome = z.infer<typeof DeployOutcome>;

export const DeployResult = z.object({
  type: z.literal('deploy.result'),
  deploymentId: z.string().min(1).max(64),
  outcome: DeployOutcome,
  exitCode: z.number().int().nullable(),
  error: ErrorBody.nullable(),
  /** The host's current system as read after the activation. */
  currentSystem: StorePath.nullable(),
  /** The system running before the deployment, which a rollback re-activated. */
  previousSystem: StorePath.nullable().optional(),
  /** Why the host rolled back (activation exit code, failed health check, no confirmation). */
  rollbackReason: z.string().max(4000).nullable().optional(),
  /** The new system needs a reboot to be complete (exit 100, or kernel/initrd changed). */
  rebootRequired: z.boolean().optional(),
});
export type DeployResult = z.infer<typeof DeployResult>;

/** One health check's outcome, as the agent ran it. */
export const HealthCheckResult = z.object({
  name: z.string().max(200),
  ok: z.boolean(),
  detail: z.string().max(2000),
});
export type HealthCheckResult = z.infer<typeof HealthCheckResult>;

/**
 * The new system is active and healthy; the agent asks the controller to confirm it.
 * Only a controller reachable from the new system can answer, which is the point.
 */
export const DeployConfirmRequest = z.object({
  type: z.literal('deploy.confirm_request'),
  deploymentId: z.string().min(1).max(64),
  health: z.array(HealthCheckResult).max(100),
});
export type DeployConfirmRequest = z.infer<typeof DeployConfirmRequest>;

/** The host finished (or finished again) booting: the agent reports its new boot. */
export const RebootResult = z.object({
  type: z.literal('reboot.result'),
  requestId: z.string().min(1).max(64),
  ok: z.boolean(),
  error: ErrorBody.nullable(),
});
export type RebootResult = z.infer<typeof RebootResult>;

/**
 * Asks for a credential to read the binary cache (`/cache`) for the next minutes. Nix reads
 * the cache over plain HTTP(S) with a netrc file, so the agent needs a password there; it
 * gets a fresh, short-lived one for each fetch instead of keeping a long-lived secret.
 */
export const CacheCredentialRequest = z.object({
  type: z.literal('cache.credential_request'),
  requestId: z.string().min(1).max(64),
});
export type CacheCredentialRequest = z.infer<typeof CacheCredentialRequest>;

/**
 * The answer to a `plan.request`: what the deployment will change, or why the agent could
 * not tell (`fetch_failed`, `untrusted_closure`, `dry_activate_failed`,
 * `closure_diff_failed`, `prefetch_disabled`, `deployment_started`, `internal_error`).
 * Exactly one of `plan` and `error` is set.
 */
export const PlanResult = z
  .object({
    type: z.literal('plan.result'),
    deploymentId: z.string().min(1).max(64),
    storePath: StorePath,
    plan: ActivationPlan.nullable(),
    error: ErrorBody.nullable(),
  })
  .refine((m) => (m.plan === null) !== (m.error === null), {
    message: 'exactly one of plan and error must be set',
  });
export type PlanResult = z.infer<typeof PlanResult>;

// ---- controller → agent ----

/**
 * The controller's first message on every connection: a fresh random challenge the agent
 * signs with its key (see `agentAuthPayload`) and answers in its hello.
 */
export const Challenge = z.object({
  type: z.literal('challenge'),
  protocolVersion: z.number().int().positive(),
  nonce: ChallengeNonce,
});
export type Challenge = z.infer<typeof Challenge>;

/**
 * A credential for the binary cache, bound to this host (it reads only its own releases'
 * closures) and valid until `expiresAt` (minutes). Use it as the password (HTTP Basic, any
 * user name) or as a Bearer token; it never reaches the disk of the controller.
 */
export const CacheCredential = z.object({
  type: z.literal('cache.credential'),
  requestId: z.string().min(1).max(64),
  token: z.string().min(1).max(200),
  expiresAt: z.iso.datetime(),
});
export type CacheCredential = z.infer<typeof CacheCredential>;

export const Welcome = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int().positive(),
  controllerVersion: z.string(),
  heartbeatIntervalSeconds: z.number().positive(),
});
export type Welcome = z.infer<typeof Welcome>;

/**
 * Where the agent fetches a closure. Only the URL: the agent fetches only from its own
 * controller's origin, and trusts only the signing keys of its own config.
 */
export const CacheSource = z.object({ url: z.url() });
export type CacheSource = z.infer<typeof CacheSource>;

/**
 * A check the agent runs after activating, before it asks for confirmation. Declared in
 * the agent's own config (it runs as root), never sent by the controller.
 */
export const HealthCheck = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('unit'),
    unit: z.string().min(1).max(256),
    timeoutSeconds: z.number().positive().max(600).default(10),
  }),
  z.object({
    kind: z.literal('http'),
    url: z.url(),
    timeoutSeconds: z.number().positive().max(600).default(10),
  }),
  z.object({
    kind: z.literal('command'),
    /** Program and arguments; never run through a shell. */
    argv: z.array(z.string().min(1)).min(1).max(64),
    timeoutSeconds: z.number().positive().max(600).default(10),
  }),
]);
export type HealthCheck = z.infer<typeof HealthCheck>;

/**
 * Deploy a store path. It carries no trust: the keys a closure must be signed with and the
 * health checks come from the agent's own config only. The schema has no fields for them,
 * and fields it does not know are dropped, so a controller cannot hand an agent a key or
 * a command to run.
 */
export const DeployRequest = z.object({
  type: z.literal('deploy.request'),
  deploymentId: z.string().min(1).max(64),
  storePath: SystemPath,
  action: DeployAction,
  cache: CacheSource.nullable(),
  /**
   * Seconds the agent has, after activating, to pass its health checks and get the
   * controller's confirmation; past it the host rolls back by itself.
   */
  confirmTimeoutSeconds: z.number().int().min(5).max(3600).default(90),
});
export type DeployRequest = z.infer<typeof DeployRequest>;

/**
 * The controller has stored a deployment result (or knows it can never use it); the agent
 * may forget it. Until then the agent keeps the result on disk and sends it again after
 * every reconnect, so a result is never lost between the two.
 */
export const DeployResultAck = z.object({
  type: z.literal('deploy.result.ack'),
  deploymentId: z.string().min(1).max(64),
});
export type DeployResultAck = z.infer<typeof DeployResultAck>;

/** The controller confirms a deployment: the agent may make it permanent. */
export const DeployConfirm = z.object({
  type: z.literal('deploy.confirm'),
  deploymentId: z.string().min(1).max(64),
});
export type DeployConfirm = z.infer<typeof DeployConfirm>;

/** Reboot the host now (a human asked for it). */
export const RebootRequest = z.object({
  type: z.literal('reboot.request'),
  requestId: z.string().min(1).max(64),
});
export type RebootRequest = z.infer<typeof RebootRequest>;

/**
 * Prepare a waiting deployment: fetch its closure from the cache now (the same fetch, with
 * the same short-lived credential and signature check, as a deployment's), keep it, and
 * answer with a `plan.result`. Sent only to agents that announced the `plan` feature. It
 * carries no trust either: the agent checks the closure with its own keys.
 */
export const PlanRequest = z.object({
  type: z.literal('plan.request'),
  deploymentId: z.string().min(1).max(64),
  storePath: SystemPath,
  /** What the deployment will ask of switch-to-configuration; `boot` activates nothing now. */
  action: DeployAction,
  cache: CacheSource.nullable(),
});
export type PlanRequest = z.infer<typeof PlanRequest>;

// ---- both directions ----

export const ErrorMessage = z.object({
  type: z.literal('error'),
  error: ErrorBody,
  /** The `type` of the message this answers, when known. */
  inReplyTo: z.string().max(64).optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

export const AgentMessage = z.discriminatedUnion('type', [
  Hello,
  FactsReport,
  Heartbeat,
  DeployProgress,
  DeployLog,
  DeployResult,
  DeployConfirmRequest,
  RebootResult,
  CacheCredentialRequest,
  PlanResult,
  ErrorMessage,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

export const ControllerMessage = z.discriminatedUnion('type', [
  Challenge,
  Welcome,
  DeployRequest,
  DeployResultAck,
  DeployConfirm,
  RebootRequest,
  CacheCredential,
  PlanRequest,
  ErrorMessage,
]);
export type ControllerMessage = z.infer<typeof ControllerMessage>;

const agentTypes = new Set(AgentMessage.options.map((o) => o.shape.type.value));
const controllerTypes = new Set(ControllerMessage.options.map((o) => o.shape.type.value));

export type ParseResult<T> =
  { ok: true; message: T } | { ok: false; error: ErrorBody; type?: string | undefined };

function parseWith<T>(
  raw: string | Buffer,
  schema: z.ZodType<T>,
  known: Set<string>,
  maxBytes: number,
): ParseResult<T> {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) {
    return {
      ok: false,
      error: {
        code: 'message_too_large',
        message: `message of ${size} bytes exceeds the limit of ${maxBytes} bytes`,
      },
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return {
      ok: false,
      error: { code: 'malformed_message', message: 'message is not valid JSON' },
    };
  }
  const type =
    typeof data === 'object' && data !== null && 'type' in data && typeof data.type === 'string'
      ? data.type.slice(0, 64)
      : undefined;
  if (type === undefined) {
    return {
      ok: false,
      error: { code: 'invalid_message', message: 'message has no string "type" field' },
    };
  }
  if (!known.has(type)) {
    return {
      ok: false,
      type,
      error: { code: 'unknown_message_type', message: `unknown message type "${type}"` },
    };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      type,
      error: {
        code: 'invalid_message',
        message: `invalid "${type}" message: ${z.prettifyError(parsed.error)}`,
      },
    };
  }
  return { ok: true, message: parsed.data };
}

/** Parses a frame received by the controller. Never throws. */
export function parseAgentMessage(
  raw: string | Buffer,
  maxBytes = MAX_MESSAGE_BYTES,
): ParseResult<AgentMessage> {
  return parseWith(raw, AgentMessage, agentTypes, maxBytes);
}

/** Parses a frame received by the agent. Never throws. */
export function parseControllerMessage(
  raw: string | Buffer,
  maxBytes = MAX_MESSAGE_BYTES,
): ParseResult<ControllerMessage> {
  return parseWith(raw, ControllerMessage, controllerTypes, maxBytes);
}

/** Describes a protocol version mismatch the same way on both ends. */
export function protocolMismatchMessage(peerVersion: number, side: 'agent' | 'controller'): string {
  const other = side === 'agent' ? 'controller' : 'agent';
  return (
    `protocol version mismatch: this ${side} speaks version ${PROTOCOL_VERSION}, ` +
    `the ${other} speaks version ${peerVersion}; upgrade the older of the two`
  );
}
