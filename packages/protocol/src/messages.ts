import { z } from 'zod';
import { ErrorBody } from './errors.js';
import { Facts, HostMode, HostOs, Metrics } from './facts.js';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from './version.js';

/** A Nix store path (`/nix/store/<32-char hash>-<name>`); nothing else may be deployed. */
export const StorePath = z
  .string()
  .max(400)
  .regex(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/, 'must be a Nix store path');
export type StorePath = z.infer<typeof StorePath>;

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

export const Hello = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int().positive(),
  host: HostName,
  os: HostOs,
  mode: HostMode,
  agentVersion: z.string().min(1).max(64),
});
export type Hello = z.infer<typeof Hello>;

export const FactsReport = z.object({ type: z.literal('facts'), facts: Facts });
export type FactsReport = z.infer<typeof FactsReport>;

export const Heartbeat = z.object({
  type: z.literal('heartbeat'),
  seq: z.number().int().nonnegative(),
  metrics: Metrics.optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const DeployPhase = z.enum(['fetching', 'setting_profile', 'activating', 'verifying']);
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

export const DeployOutcome = z.enum(['succeeded', 'failed', 'refused']);
export type DeployOutcome = z.infer<typeof DeployOutcome>;

export const DeployResult = z.object({
  type: z.literal('deploy.result'),
  deploymentId: z.string().min(1).max(64),
  outcome: DeployOutcome,
  exitCode: z.number().int().nullable(),
  error: ErrorBody.nullable(),
  /** The host's current system as read after the activation. */
  currentSystem: z.string().nullable(),
});
export type DeployResult = z.infer<typeof DeployResult>;

// ---- controller → agent ----

export const Welcome = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int().positive(),
  controllerVersion: z.string(),
  heartbeatIntervalSeconds: z.number().positive(),
});
export type Welcome = z.infer<typeof Welcome>;

/** Where and how the agent fetches a closure; signatures are always checked. */
export const CacheSource = z.object({
  url: z.url(),
  publicKeys: z.array(z.string().min(1)).min(1),
});
export type CacheSource = z.infer<typeof CacheSource>;

export const DeployRequest = z.object({
  type: z.literal('deploy.request'),
  deploymentId: z.string().min(1).max(64),
  storePath: StorePath,
  action: DeployAction,
  cache: CacheSource.nullable(),
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
  ErrorMessage,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

export const ControllerMessage = z.discriminatedUnion('type', [
  Welcome,
  DeployRequest,
  DeployResultAck,
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
