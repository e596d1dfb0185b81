import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FlotillaError,
  type CreateUserRequest,
  type CreateUserResponse,
  type SetupRequest,
  type UpdateUserRequest,
  type User,
  type UserList,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Store } from '../storage/store.js';
import { generateToken, newId, tokensEqual } from '../support/tokens.js';
import { actorOf, toUser, type Principal } from './principal.js';
import { generatePassword, hashPassword } from './secrets.js';

/** The file holding the one-time setup token while no user exists. */
export const SETUP_TOKEN_FILE = 'setup-token';

export interface UsersServiceOptions {
  store: Store;
  clock: Clock;
  stateDir: string;
}

/**
 * Users and the first start. There is no default password: while no user exists, a
 * one-time setup token (in a 0600 file of the state directory, and printed once) lets the
 * first admin be created; or the config names a file with the first admin's password.
 */
export class UsersService {
  constructor(private readonly options: UsersServiceOptions) {}

  /**
   * At start: with no user yet, the first admin from `initialAdminPasswordFile`, or a setup
   * token (kept across restarts until used). Returns the token when one is waiting.
   */
  async firstStart(initial?: { username: string; password: string }): Promise<string | null> {
    const { store } = this.options;
    if ((await store.users.count()) > 0) {
      rmSync(this.setupTokenPath(), { force: true });
      return null;
    }
    if (initial) {
      await this.create(initial.username, 'admin', initial.password, 'config');
      return null;
    }
    const path = this.setupTokenPath();
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    const token = generateToken('flsetup');
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  }

  /** `POST /api/v1/setup`: the first admin, once, with the setup token. */
  async setup(request: SetupRequest): Promise<User> {
    const path = this.setupTokenPath();
    const expected = existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
    if ((await this.options.store.users.count()) > 0 || expected === null) {
      throw new FlotillaError('setup_done', 'the first admin exists already: log in instead');
    }
    if (!tokensEqual(request.setupToken, expected)) {
      throw new FlotillaError('invalid_credentials', 'that is not the setup token');
    }
    const user = await this.create(request.username, 'admin', request.password, 'setup');
    rmSync(path, { force: true });
    return user;
  }

  async list(): Promise<UserList> {
    return { users: (await this.options.store.users.list()).map(toUser) };
  }

  async add(request: CreateUserRequest, by: Principal): Promise<CreateUserResponse> {
    const password = request.password ?? generatePassword();
    const user = await this.create(request.username, request.role, password, actorOf(by));
    return { user, password: request.password === undefined ? password : null };
  }

  /** Role, disable/enable, password or TOTP reset; the last ones end the user's sessions and tokens. */
  async update(
    username: string,
    request: UpdateUserRequest,
    by: Principal,
  ): Promise<CreateUserResponse> {
    const { store, clock } = this.options;
    const user = await store.users.findByUsername(username);
    if (!user) throw new FlotillaError('user_not_found', `no user named "${username}"`);
    if (user.id === by.user.id && (request.role !== undefined || request.disabled === true)) {
      throw new FlotillaError('forbidden', 'you cannot lower your own role or disable yourself');
    }
    const now = clock.now().toISOString();
    const password = request.resetPassword ? generatePassword() : null;
    const hash = password === null ? null : await hashPassword(password);
    await store.transaction(async (tx) => {
      if (request.role !== undefined && request.role !== 'admin' && user.role === 'admin') {
        const admins = (await tx.users.list()).filter(
          (u) => u.role === 'admin' && u.disabled_at === null,
        );
        if (admins.length <= 1)
          throw new FlotillaError('forbidden', 'the last admin keeps the admin role');
      }
      await tx.users.update(user.id, {
        ...(request.role !== undefined ? { role: request.role } : {}),
        ...(request.disabled !== undefined ? { disabled_at: request.disabled ? now : null } : {}),
        ...(hash !== null ? { password_hash: hash, failed_logins: 0, locked_until: null } : {}),
        ...(request.resetTotp ? { totp_enabled: 0, totp_secret: null } : {}),
        updated_at: now,
      });
      if (request.resetTotp) await tx.users.replaceRecoveryCodes(user.id, []);
      if (request.disabled || hash !== null || request.resetTotp) {
        await tx.users.revokeSessions(user.id, now);
        await tx.users.revokeTokens(user.id, now);
      }
      await tx.events.append([
        {
          at: now,
          kind: 'user.changed',
          actor: actorOf(by),
          data: {
            username,
            role: request.role ?? null,
            disabled: request.disabled ?? null,
            passwordReset: hash !== null,
            totpReset: request.resetTotp === true,
          },
        },
      ]);
    });
    const updated = await store.users.findById(user.id);
    return { user: toUser(updated ?? user), password };
  }

  private async create(
    username: string,
    role: User['role'],
    password: string,
    by: string,
  ): Promise<User> {
    const { store, clock } = this.options;
    if (await store.users.findByUsername(username)) {
      throw new FlotillaError('user_exists', `a user named "${username}" exists already`);
    }
    const now = clock.now().toISOString();
    const id = newId('u', clock.now());
    const hash = await hashPassword(password);
    await store.transaction(async (tx) => {
      await tx.users.insert({
        id,
        username,
        role,
        password_hash: hash,
        totp_secret: null,
        locked_until: null,
        disabled_at: null,
        created_at: now,
        created_by: by,
        updated_at: now,
      });
      await tx.events.append([
        { at: now, kind: 'user.created', actor: by, data: { username, role } },
      ]);
    });
    const row = await store.users.findById(id);
    if (!row) throw new Error('user vanished after insert');
    return toUser(row);
  }

  private setupTokenPath(): string {
    return join(this.options.stateDir, SETUP_TOKEN_FILE);
  }
}
