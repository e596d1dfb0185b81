import {
  FlotillaError,
  type ChangePasswordRequest,
  type LoggedOut,
  type LoginRequest,
  type Me,
  type RecoveryCodes,
  type SessionAnswer,
  type StepUpAnswer,
  type TotpEnrollment,
  type User,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Store } from '../storage/store.js';
import type { UserRow } from '../storage/user.repository.js';
import { generateToken, hashToken } from '../support/tokens.js';
import { actorOf, toUser, type Principal } from './principal.js';
import { dummyHash, hashPassword, verifyPassword } from './secrets.js';
import { newRecoveryCodes, newTotpSecret, recoveryCodeHash, totpStep, totpUri } from './totp.js';

export interface AuthSettings {
  /** A session ends after this long without a request. */
  sessionIdleMinutes: number;
  /** …and after this long in any case. */
  sessionMaxHours: number;
  /** A TOTP code given for a destructive action is good for this long in a session. */
  stepUpMinutes: number;
  /** Failed logins before an account is locked, and for how long. */
  lockoutAfter: number;
  lockoutMinutes: number;
  /** The issuer authenticator apps show. */
  issuer: string;
}

/** Where a login comes from (for the session record and the audit log). */
export interface ClientInfo {
  address: string | null;
  userAgent: string | null;
}

/**
 * Who people are: passwords (argon2id), TOTP with recovery codes, browser sessions with a
 * CSRF token and idle and absolute expiry, step-up for destructive actions, and lockout
 * after repeated failures. Every change lands in the audit log under the real person.
 */
export class AuthService {
  constructor(private readonly options: { store: Store; clock: Clock; settings: AuthSettings }) {}

  /**
   * Checks credentials (and a TOTP or recovery code when the user has TOTP). Failures are
   * one error for unknown user and wrong password alike; five in a row lock the account.
   */
  async checkCredentials(request: LoginRequest, client: ClientInfo): Promise<UserRow> {
    const { store, clock } = this.options;
    const user = await store.users.findByUsername(request.username);
    const now = clock.now();
    if (!user) {
      await verifyPassword(await dummyHash(), request.password);
      await this.audit('auth.login_failed', request.username, client, { reason: 'unknown user' });
      throw invalidCredentials();
    }
    if (user.locked_until !== null && Date.parse(user.locked_until) > now.getTime()) {
      throw new FlotillaError(
        'account_locked',
        `too many failed logins: the account is locked until ${user.locked_until}`,
        { lockedUntil: user.locked_until },
      );
    }
    const passwordOk = await verifyPassword(user.password_hash, request.password);
    if (!passwordOk || user.disabled_at !== null) {
      await this.failed(user, client, passwordOk ? 'disabled' : 'wrong password');
      throw invalidCredentials();
    }
    if (user.totp_enabled === 1) {
      if (request.totp === undefined) {
        throw new FlotillaError('totp_required', 'this user has TOTP on: give a code too');
      }
      if (!(await this.checkSecondFactor(user, request.totp))) {
        await this.failed(user, client, 'wrong TOTP code');
        throw invalidCredentials();
      }
    }
    if (user.failed_logins > 0 || user.locked_until !== null)
      await store.users.update(user.id, { failed_logins: 0, locked_until: null });
    return user;
  }

  /** Logs in for a browser: a session id for the cookie, and a CSRF token. */
  async login(
    request: LoginRequest,
    client: ClientInfo,
  ): Promise<{ answer: SessionAnswer; sessionId: string; maxAgeSeconds: number }> {
    const { store, clock, settings } = this.options;
    const user = await this.checkCredentials(request, client);
    const sessionId = generateToken('fls');
    const csrfToken = generateToken('flc');
    const now = clock.now();
    const expiresAt = new Date(now.getTime() + settings.sessionMaxHours * 3600_000).toISOString();
    await store.transaction(async (tx) => {
      await tx.users.insertSession({
        id_hash: hashToken(sessionId),
        user_id: user.id,
        csrf_hash: hashToken(csrfToken),
        created_at: now.toISOString(),
        last_seen_at: now.toISOString(),
        expires_at: expiresAt,
        // Giving a TOTP code to log in counts as a fresh one.
        stepped_up_at: user.totp_enabled === 1 ? now.toISOString() : null,
        revoked_at: null,
        client_address: client.address,
        user_agent: client.userAgent?.slice(0, 300) ?? null,
      });
      await this.audit('auth.login', user.username, client, { via: 'session' }, tx);
    });
    return {
      answer: { user: toUser(user), csrfToken, expiresAt },
      sessionId,
      maxAgeSeconds: settings.sessionMaxHours * 3600,
    };
  }

  /**
   * The session behind a cookie, if it is open: not revoked, not past its absolute expiry,
   * used within the idle time, its user enabled. Touches its last-seen time.
   */
  async session(sessionId: string): Promise<{
    user: UserRow;
    session: { idHash: string; csrfHash: string; steppedUpAt: string | null };
  } | null> {
    const { store, clock, settings } = this.options;
    const idHash = hashToken(sessionId);
    const row = await store.users.findSession(idHash);
    const now = clock.now().getTime();
    if (!row || row.revoked_at !== null || Date.parse(row.expires_at) <= now) return null;
    if (Date.parse(row.last_seen_at) + settings.sessionIdleMinutes * 60_000 <= now) return null;
    const user = await store.users.findById(row.user_id);
    if (!user || user.disabled_at !== null) return null;
    // Written at most once a minute: a busy page does not write on every request.
    if (now - Date.parse(row.last_seen_at) > 60_000)
      await store.users.updateSession(idHash, { last_seen_at: new Date(now).toISOString() });
    return {
      user,
      session: { idHash, csrfHash: row.csrf_hash, steppedUpAt: row.stepped_up_at },
    };
  }

  /** An enabled user by name (the user an authenticating proxy names). */
  async enabledUser(username: string): Promise<UserRow | null> {
    const user = await this.options.store.users.findByUsername(username);
    return user && user.disabled_at === null ? user : null;
  }

  async logout(principal: Principal): Promise<LoggedOut> {
    if (principal.sessionIdHash === null) return { sessionsRevoked: 0 };
    const at = this.options.clock.now().toISOString();
    await this.options.store.users.updateSession(principal.sessionIdHash, { revoked_at: at });
    await this.audit('auth.logout', actorOf(principal), null, {});
    return { sessionsRevoked: 1 };
  }

  async logoutEverywhere(principal: Principal): Promise<LoggedOut> {
    const at = this.options.clock.now().toISOString();
    const sessionsRevoked = await this.options.store.users.revokeSessions(principal.user.id, at);
    await this.audit('auth.logout_everywhere', actorOf(principal), null, { sessionsRevoked });
    return { sessionsRevoked };
  }

  /** Whether `principal` gave a TOTP code recently enough for a destructive action. */
  steppedUp(principal: Principal): boolean {
    if (principal.steppedUpAt === null) return false;
    const fresh = Date.parse(principal.steppedUpAt) + this.options.settings.stepUpMinutes * 60_000;
    return fresh > this.options.clock.now().getTime();
  }

  /**
   * Step-up: a fresh TOTP code (or a recovery code). In a session it is remembered for a
   * few minutes; with a token it is given on the request itself.
   */
  async stepUp(principal: Principal, code: string): Promise<StepUpAnswer> {
    const { store, clock, settings } = this.options;
    if (principal.user.totp_enabled !== 1) {
      throw new FlotillaError('validation_failed', 'this user has no TOTP; nothing to step up to');
    }
    const fresh = (await store.users.findById(principal.user.id)) ?? principal.user;
    if (fresh.locked_until !== null && Date.parse(fresh.locked_until) > clock.now().getTime()) {
      throw new FlotillaError(
        'account_locked',
        `too many wrong codes: the account is locked until ${fresh.locked_until}`,
        { lockedUntil: fresh.locked_until },
      );
    }
    if (!(await this.checkSecondFactor(principal.user, code))) {
      // Wrong codes count like failed logins: a stolen session cannot guess its way up.
      await this.failed(fresh, null, 'wrong step-up code');
      throw new FlotillaError('step_up_required', 'that code is not valid; give a current one');
    }
    if (fresh.failed_logins > 0) await store.users.update(fresh.id, { failed_logins: 0 });
    const now = clock.now();
    if (principal.sessionIdHash !== null) {
      await store.users.updateSession(principal.sessionIdHash, {
        stepped_up_at: now.toISOString(),
      });
    }
    principal.steppedUpAt = now.toISOString();
    return {
      steppedUpUntil: new Date(now.getTime() + settings.stepUpMinutes * 60_000).toISOString(),
    };
  }

  me(principal: Principal): Me {
    const until =
      principal.steppedUpAt === null || principal.via !== 'session'
        ? null
        : new Date(
            Date.parse(principal.steppedUpAt) + this.options.settings.stepUpMinutes * 60_000,
          ).toISOString();
    return {
      user: toUser(principal.user),
      via: principal.via,
      scope: principal.scope,
      tokenId: principal.token?.id ?? null,
      role: principal.role,
      steppedUpUntil: until,
    };
  }

  async changePassword(principal: Principal, request: ChangePasswordRequest): Promise<User> {
    const { store, clock } = this.options;
    if (!(await verifyPassword(principal.user.password_hash, request.current))) {
      throw invalidCredentials();
    }
    const now = clock.now().toISOString();
    const hash = await hashPassword(request.password);
    await store.transaction(async (tx) => {
      await tx.users.update(principal.user.id, { password_hash: hash, updated_at: now });
      // Every other session ends; this one stays.
      await tx.users.revokeSessions(principal.user.id, now);
      if (principal.sessionIdHash !== null)
        await tx.users.updateSession(principal.sessionIdHash, { revoked_at: null });
      await this.audit('user.password_changed', actorOf(principal), null, {}, tx);
    });
    return toUser((await store.users.findById(principal.user.id)) ?? principal.user);
  }

  /** Starts TOTP enrollment: a new secret, kept unconfirmed until a code proves the app has it. */
  async startTotp(principal: Principal): Promise<TotpEnrollment> {
    const { store, clock, settings } = this.options;
    if (principal.user.totp_enabled === 1) {
      throw new FlotillaError('validation_failed', 'TOTP is on already; turn it off first');
    }
    const secret = newTotpSecret();
    await store.users.update(principal.user.id, {
      totp_secret: secret,
      updated_at: clock.now().toISOString(),
    });
    return { secret, uri: totpUri(secret, principal.user.username, settings.issuer) };
  }

  async confirmTotp(principal: Principal, code: string): Promise<RecoveryCodes> {
    const { store, clock } = this.options;
    const user = (await store.users.findById(principal.user.id)) ?? principal.user;
    if (user.totp_enabled === 1) throw new FlotillaError('validation_failed', 'TOTP is on already');
    if (user.totp_secret === null) {
      throw new FlotillaError(
        'validation_failed',
        'start TOTP enrollment first (POST /api/v1/me/totp)',
      );
    }
    const step = totpStep(user.totp_secret, code, clock.now());
    if (step === null || !(await store.users.useTotpStep(user.id, step))) {
      throw new FlotillaError(
        'validation_failed',
        'that code does not match; check the clock of the device',
      );
    }
    const recovery = newRecoveryCodes();
    const now = clock.now().toISOString();
    await store.transaction(async (tx) => {
      await tx.users.update(user.id, { totp_enabled: 1, updated_at: now });
      await tx.users.replaceRecoveryCodes(user.id, recovery.hashes);
      await this.audit('user.totp_enabled', actorOf(principal), null, {}, tx);
    });
    return { codes: recovery.codes };
  }

  async disableTotp(principal: Principal, code: string): Promise<User> {
    const { store, clock } = this.options;
    if (principal.user.totp_enabled !== 1)
      throw new FlotillaError('validation_failed', 'TOTP is off');
    if (!(await this.checkSecondFactor(principal.user, code))) {
      await this.failed(principal.user, null, 'wrong TOTP code to turn TOTP off');
      throw new FlotillaError('step_up_required', 'that code is not valid; give a current one');
    }
    const now = clock.now().toISOString();
    await store.transaction(async (tx) => {
      await tx.users.update(principal.user.id, {
        totp_enabled: 0,
        totp_secret: null,
        updated_at: now,
      });
      await tx.users.replaceRecoveryCodes(principal.user.id, []);
      await this.audit('user.totp_disabled', actorOf(principal), null, {}, tx);
    });
    return toUser((await store.users.findById(principal.user.id)) ?? principal.user);
  }

  /** A TOTP code, or one of the user's unused recovery codes (used up by this check). */
  private async checkSecondFactor(user: UserRow, code: string): Promise<boolean> {
    const { store, clock } = this.options;
    if (user.totp_secret !== null) {
      const step = totpStep(user.totp_secret, code, clock.now());
      // A valid code used before is refused like a wrong one: codes are good once.
      if (step !== null) return store.users.useTotpStep(user.id, step);
    }
    return store.users.useRecoveryCode(user.id, recoveryCodeHash(code), clock.now().toISOString());
  }

  private async failed(user: UserRow, client: ClientInfo | null, reason: string): Promise<void> {
    const { store, clock, settings } = this.options;
    const count = await store.users.addFailedLogin(user.id);
    if (count >= settings.lockoutAfter) {
      const until = new Date(
        clock.now().getTime() + settings.lockoutMinutes * 60_000,
      ).toISOString();
      await store.users.update(user.id, { locked_until: until, failed_logins: 0 });
      await this.audit('auth.account_locked', user.username, client, { until });
    }
    await this.audit('auth.login_failed', user.username, client, { reason, failures: count });
  }

  private async audit(
    kind: string,
    actor: string,
    client: ClientInfo | null,
    data: Record<string, unknown>,
    tx: Store = this.options.store,
  ): Promise<void> {
    await tx.events.append([
      {
        at: this.options.clock.now().toISOString(),
        kind,
        actor,
        data: client ? { ...data, address: client.address } : data,
      },
    ]);
  }
}

function invalidCredentials(): FlotillaError {
  return new FlotillaError('invalid_credentials', 'unknown user or wrong password');
}
