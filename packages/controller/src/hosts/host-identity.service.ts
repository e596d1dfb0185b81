import {
  agentAuthPayload,
  FlotillaError,
  PROTOCOL_VERSION,
  type AgentAuth,
  type EnrollAgentRequest,
  type EnrollAgentResponse,
  type EnrollmentToken,
  type HostIdentity,
  type IssueEnrollmentRequest,
  type RevokeHostRequest,
  type RevokeHostResponse,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { LiveEvents } from '../events/event-bus.js';
import type { HostRow } from '../storage/host.repository.js';
import type { IdentitySummary } from '../storage/identity.repository.js';
import type { Store } from '../storage/store.js';
import { generateToken, hashToken, newId } from '../support/tokens.js';
import { importAgentKey, keyFingerprint, verifyAgentSignature } from './agent-signature.js';
import type { PresenceService } from './presence.service.js';

export interface HostIdentityServiceOptions {
  store: Store;
  presence: Pick<PresenceService, 'cutOff'>;
  /** Told about every change of a host's enrollment state (`hosts.changed`). */
  live: LiveEvents;
  clock: Clock;
  /** Called once a host's key stopped working (revoked or replaced); its cache credentials go. */
  onKeyRevoked?: (host: string) => void;
}

/** What a connecting agent must show: the host it claims, its answer and what it answered. */
export interface AuthenticationAttempt {
  host: string;
  auth: AgentAuth | undefined;
  /** The challenge this connection was sent. */
  nonce: string;
  /** The http(s) origins the agent may have dialled this controller at. */
  origins: readonly string[];
}

/** An agent that proved its key; valid while {@link HostIdentityService.isCurrent} says so. */
export interface AuthenticatedAgent {
  host: HostRow;
  keyFingerprint: string;
  /** The host's key generation when the proof was checked (see `isCurrent`). */
  epoch: number;
}

/** The prefix of enrollment tokens, so a leaked one is recognisable in logs and scans. */
const ENROLLMENT_TOKEN_PREFIX = 'flte';

/**
 * Agent identities: one-time enrollment tokens, the enrolled public keys, revocation, and
 * the check of a connecting agent's signed challenge. Every change is one transaction;
 * revoking or replacing a key cuts the host's live connection off right after it commits.
 */
export class HostIdentityService {
  /**
   * Bumped (in memory) whenever a host's key stops working. An agent whose key was read
   * before a revocation committed is refused if the revocation lands before the agent is
   * marked online; if it lands after, the revocation cuts the connection off. Either way a
   * revoked key never keeps a connection.
   */
  private readonly epochs = new Map<string, number>();

  constructor(private readonly options: HostIdentityServiceOptions) {}

  /** A fresh enrollment token for a registered host; older unused ones stop working. */
  async issue(
    name: string,
    request: IssueEnrollmentRequest,
    actor: string,
  ): Promise<EnrollmentToken> {
    const { store, clock } = this.options;
    return store.transaction(async (tx) => {
      if (!(await tx.hosts.findByName(name))) {
        throw new FlotillaError('host_not_found', `no host named "${name}"`);
      }
      this.options.live.publish({ type: 'hosts.changed', names: [name] }, tx);
      return issueEnrollmentToken(tx, {
        host: name,
        expiresInSeconds: request.expiresInSeconds,
        actor,
        now: clock.now(),
      });
    });
  }

  /**
   * An agent trades a one-time token for the enrollment of its public key. A token that is
   * unknown, for another host, used, superseded, revoked or expired is refused with its own
   * code and nothing is written; a key already enrolled (for any host, ever) is refused too.
   */
  async enroll(request: EnrollAgentRequest): Promise<EnrollAgentResponse> {
    const { store, clock } = this.options;
    try {
      importAgentKey(request.publicKey);
    } catch {
      throw new FlotillaError('validation_failed', 'publicKey is not an Ed25519 public key');
    }
    const now = clock.now();
    const at = now.toISOString();
    const tokenHash = hashToken(request.token);
    const fingerprint = keyFingerprint(request.publicKey);
    const enrolled = await store.transaction(async (tx) => {
      this.options.live.publish({ type: 'hosts.changed', names: [request.host] }, tx);
      const token = await tx.identities.findToken(tokenHash);
      // A token for another host reads as unknown: the answer never confirms a token exists.
      if (!token || token.host_name !== request.host) {
        throw new FlotillaError('enrollment_token_invalid', 'unknown enrollment token');
      }
      if (token.used_at !== null) {
        throw new FlotillaError(
          'enrollment_token_used',
          `this enrollment token was already used (${token.used_at}); issue a new one: flotilla host enroll ${token.host_name}`,
        );
      }
      if (token.revoked_at !== null) {
        throw new FlotillaError(
          'enrollment_token_invalid',
          'this enrollment token was replaced by a newer one or revoked with its host',
        );
      }
      if (token.expires_at <= at) {
        throw new FlotillaError(
          'enrollment_token_expired',
          `this enrollment token expired at ${token.expires_at}; issue a new one: flotilla host enroll ${token.host_name}`,
        );
      }
      if (await tx.identities.keyByFingerprint(fingerprint)) {
        throw new FlotillaError(
          'public_key_in_use',
          `key ${fingerprint} was enrolled before; an agent enrolls with a new key each time`,
        );
      }
      const host = await tx.hosts.findByName(token.host_name);
      if (!host) throw new FlotillaError('host_not_found', `no host named "${token.host_name}"`);
      const keyId = newId('k', now);
      const replaced = await tx.identities.revokeActiveKey(host.name, {
        at,
        by: `agent:${host.name}`,
        reason: 'replaced by a new enrollment',
      });
      await tx.identities.insertKey({
        id: keyId,
        host_name: host.name,
        public_key: request.publicKey,
        fingerprint,
        enrolled_at: at,
        revoked_at: null,
        revoked_by: null,
        revoke_reason: null,
      });
      if (!(await tx.identities.useToken(tokenHash, at, keyId))) {
        throw new FlotillaError('enrollment_token_used', 'this enrollment token was just used');
      }
      await tx.events.append([
        {
          at,
          kind: 'host.enrolled',
          actor: `agent:${host.name}`,
          hostName: host.name,
          data: {
            keyFingerprint: fingerprint,
            replacedKeyFingerprint: replaced?.fingerprint ?? null,
          },
        },
      ]);
      return { host, replaced };
    });
    if (enrolled.replaced) this.keyStopped(enrolled.host.name, 'key replaced by a new enrollment');
    return {
      host: enrolled.host.name,
      mode: enrolled.host.mode,
      keyFingerprint: fingerprint,
      enrolledAt: at,
      replacedKeyFingerprint: enrolled.replaced?.fingerprint ?? null,
    };
  }

  /**
   * Revokes the host's key and its unused enrollment tokens, then cuts its live connection
   * off. The host comes back only by enrolling with a token issued after this.
   */
  async revoke(
    name: string,
    request: RevokeHostRequest,
    actor: string,
  ): Promise<RevokeHostResponse> {
    const { store, clock } = this.options;
    const at = clock.now().toISOString();
    const reason = request.reason ?? 'revoked by hand';
    const revoked = await store.transaction(async (tx) => {
      if (!(await tx.hosts.findByName(name))) {
        throw new FlotillaError('host_not_found', `no host named "${name}"`);
      }
      this.options.live.publish({ type: 'hosts.changed', names: [name] }, tx);
      const key = await tx.identities.revokeActiveKey(name, { at, by: actor, reason });
      const tokens = await tx.identities.revokeUnusedTokens(name, at);
      await tx.events.append([
        {
          at,
          kind: 'host.revoked',
          actor,
          hostName: name,
          data: {
            keyFingerprint: key?.fingerprint ?? null,
            enrollmentTokensRevoked: tokens,
            reason,
          },
        },
      ]);
      return { key, tokens };
    });
    const disconnected = this.keyStopped(name, 'host revoked');
    return {
      host: name,
      revokedAt: at,
      keyFingerprint: revoked.key?.fingerprint ?? null,
      enrollmentTokensRevoked: revoked.tokens,
      disconnected,
    };
  }

  /**
   * Checks a connecting agent's answer to its challenge: the key it names must be enrolled
   * and active, the signature must verify over this challenge for the host it claims, this
   * protocol version and one of this controller's origins, and the key must be that host's.
   */
  async authenticate(attempt: AuthenticationAttempt): Promise<AuthenticatedAgent> {
    const epoch = this.epoch(attempt.host);
    const { auth } = attempt;
    if (auth === undefined) {
      throw new FlotillaError(
        'unauthorized',
        'the hello carries no answer to the challenge; this controller needs an enrolled agent (protocol 2)',
      );
    }
    const key = await this.options.store.identities.keyByFingerprint(auth.keyId);
    if (!key || key.revoked_at !== null) {
      const why = key ? `was revoked at ${key.revoked_at}` : 'is not enrolled';
      throw new FlotillaError(
        'agent_not_enrolled',
        `key ${auth.keyId} ${why}; enroll the host again: flotilla host enroll ${attempt.host}`,
      );
    }
    const verified = attempt.origins.some((origin) =>
      verifyAgentSignature(
        key.public_key,
        agentAuthPayload({
          host: attempt.host,
          origin,
          protocolVersion: PROTOCOL_VERSION,
          nonce: attempt.nonce,
        }),
        auth.signature,
      ),
    );
    if (!verified) {
      throw new FlotillaError(
        'invalid_signature',
        `the signature does not answer this connection's challenge for host "${attempt.host}" at ${attempt.origins.join(' or ') || 'an unknown origin'}`,
      );
    }
    if (key.host_name !== attempt.host) {
      throw new FlotillaError(
        'host_mismatch',
        `this key belongs to host "${key.host_name}", not "${attempt.host}"`,
      );
    }
    const host = await this.options.store.hosts.findByName(key.host_name);
    if (!host) throw new FlotillaError('agent_not_enrolled', `host "${key.host_name}" is gone`);
    return { host, keyFingerprint: key.fingerprint, epoch };
  }

  /** Whether no key of the agent's host stopped working since it was authenticated. */
  isCurrent(agent: AuthenticatedAgent): boolean {
    return this.epoch(agent.host.name) === agent.epoch;
  }

  /** Each named host's identity, for the host list. */
  async identities(names: readonly string[]): Promise<Map<string, HostIdentity>> {
    const now = this.options.clock.now().toISOString();
    const summaries = await this.options.store.identities.summaries(names, now);
    return new Map([...summaries].map(([name, summary]) => [name, toIdentity(summary)]));
  }

  /** A key of the host stopped working: refuse proofs in flight, cut the connection off. */
  private keyStopped(host: string, reason: string): boolean {
    this.epochs.set(host, this.epoch(host) + 1);
    const disconnected = this.options.presence.cutOff(host, reason);
    this.options.onKeyRevoked?.(host);
    return disconnected;
  }

  private epoch(host: string): number {
    return this.epochs.get(host) ?? 0;
  }
}

/**
 * Issues an enrollment token for `host` inside the caller's transaction (registration, or
 * a new token), revoking the host's older unused ones: only the newest token works.
 */
export async function issueEnrollmentToken(
  tx: Store,
  options: { host: string; expiresInSeconds: number; actor: string; now: Date },
): Promise<EnrollmentToken> {
  const token = generateToken(ENROLLMENT_TOKEN_PREFIX);
  const at = options.now.toISOString();
  const expiresAt = new Date(options.now.getTime() + options.expiresInSeconds * 1000).toISOString();
  const superseded = await tx.identities.revokeUnusedTokens(options.host, at);
  await tx.identities.insertToken({
    token_hash: hashToken(token),
    host_name: options.host,
    created_at: at,
    created_by: options.actor,
    expires_at: expiresAt,
    used_at: null,
    key_id: null,
    revoked_at: null,
  });
  await tx.events.append([
    {
      at,
      kind: 'host.enrollment_issued',
      actor: options.actor,
      hostName: options.host,
      data: { expiresAt, supersededTokens: superseded },
    },
  ]);
  return { host: options.host, token, expiresAt };
}

function toIdentity(summary: IdentitySummary): HostIdentity {
  const key = summary.latestKey;
  const status = key === undefined ? 'pending' : key.revoked_at === null ? 'enrolled' : 'revoked';
  return {
    status,
    keyFingerprint: key?.fingerprint ?? null,
    enrolledAt: key?.enrolled_at ?? null,
    revokedAt: key?.revoked_at ?? null,
    enrollmentExpiresAt: summary.pendingUntil,
  };
}
