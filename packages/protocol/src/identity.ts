import * as z from 'zod';
import { HostMode } from './facts.js';

/**
 * Agent identities: each host's agent holds an Ed25519 key pair it generated itself; the
 * controller keeps only the public key, recorded when the agent enrolled with a one-time
 * enrollment token, and the agent proves it on every connection by signing a challenge.
 */

/** An Ed25519 public key: its 32 raw bytes, base64url without padding. */
export const AgentPublicKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be an Ed25519 public key (32 bytes, base64url)');
export type AgentPublicKey = z.infer<typeof AgentPublicKey>;

/** The fingerprint naming a key, as OpenSSH prints it: `SHA256:` and base64 of the raw key's SHA-256. */
export const KeyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be a key fingerprint (SHA256:…)');
export type KeyFingerprint = z.infer<typeof KeyFingerprint>;

/** A challenge: 32 random bytes, base64url without padding, fresh for every connection. */
export const ChallengeNonce = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url');

/** An Ed25519 signature: 64 bytes, base64url without padding. */
export const AgentSignature = z
  .string()
  .regex(/^[A-Za-z0-9_-]{86}$/, 'must be an Ed25519 signature (64 bytes, base64url)');

/** What an agent signs to answer a challenge; see {@link agentAuthPayload}. */
export interface AgentAuthContext {
  /** The host the agent says hello as. */
  host: string;
  /**
   * The http(s) origin of the controller the agent dialled (`wss://fleet:8443/…` →
   * `https://fleet:8443`), so a signature made for one controller is worthless at another.
   */
  origin: string;
  protocolVersion: number;
  nonce: string;
}

/**
 * The exact bytes an agent signs (UTF-8): a fixed label, the protocol version, the host
 * name, the controller's origin and the challenge, one per line. Neither side ever signs
 * or accepts anything else with an agent key, so a signature cannot be replayed on another
 * controller, for another host, in another protocol version or on another connection.
 */
export function agentAuthPayload(context: AgentAuthContext): string {
  return [
    'flotilla-agent-auth',
    String(context.protocolVersion),
    context.host,
    context.origin,
    context.nonce,
  ].join('\n');
}

// ---- HTTP bodies ----

/** Seconds an enrollment token stays valid unless the request says otherwise (1 h). */
export const DEFAULT_ENROLLMENT_TTL_SECONDS = 3600;

/** How long an enrollment token may live: at least a minute, at most 30 days. */
export const EnrollmentTtlSeconds = z
  .number()
  .int()
  .min(60)
  .max(30 * 86400);

/** A one-time enrollment token as shown to the admin who asked for it (shown once). */
export const EnrollmentToken = z.object({
  host: z.string(),
  /** Give it to the agent (`--enrollment-token-file`); only its hash is stored. */
  token: z.string(),
  expiresAt: z.string(),
});
export type EnrollmentToken = z.infer<typeof EnrollmentToken>;

/** `POST /api/v1/hosts/:name/enrollment`: a fresh token to (re-)enroll the host. */
export const IssueEnrollmentRequest = z
  .object({ expiresInSeconds: EnrollmentTtlSeconds.default(DEFAULT_ENROLLMENT_TTL_SECONDS) })
  .strict();
export type IssueEnrollmentRequest = z.infer<typeof IssueEnrollmentRequest>;

/** `POST /api/v1/agent/enroll`: an agent trades a one-time token for its key's enrollment. */
export const EnrollAgentRequest = z
  .object({
    token: z.string().min(1).max(200),
    host: z.string().min(1).max(63),
    publicKey: AgentPublicKey,
  })
  .strict();
export type EnrollAgentRequest = z.infer<typeof EnrollAgentRequest>;

export const EnrollAgentResponse = z.object({
  host: z.string(),
  mode: HostMode,
  keyFingerprint: KeyFingerprint,
  enrolledAt: z.string(),
  /** The key this enrollment replaced (it no longer works); null on a first enrollment. */
  replacedKeyFingerprint: KeyFingerprint.nullable(),
});
export type EnrollAgentResponse = z.infer<typeof EnrollAgentResponse>;

/** `POST /api/v1/hosts/:name/revoke`. */
export const RevokeHostRequest = z.object({ reason: z.string().max(2000).optional() }).strict();
export type RevokeHostRequest = z.infer<typeof RevokeHostRequest>;

export const RevokeHostResponse = z.object({
  host: z.string(),
  revokedAt: z.string(),
  /** The key that stopped working; null when the host had none. */
  keyFingerprint: KeyFingerprint.nullable(),
  /** Unused enrollment tokens of the host that stopped working too. */
  enrollmentTokensRevoked: z.number(),
  /** Whether a live agent connection was cut off. */
  disconnected: z.boolean(),
});
export type RevokeHostResponse = z.infer<typeof RevokeHostResponse>;

/** Where a host stands with its identity, as shown with the host. */
export const HostIdentity = z.object({
  /**
   * `pending`: registered but never enrolled; `enrolled`: has an active key; `revoked`:
   * its last key was revoked and it has not enrolled again.
   */
  status: z.enum(['pending', 'enrolled', 'revoked']),
  keyFingerprint: KeyFingerprint.nullable(),
  enrolledAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** When the newest unused enrollment token expires; null when there is none. */
  enrollmentExpiresAt: z.string().nullable(),
});
export type HostIdentity = z.infer<typeof HostIdentity>;
