import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, STEP_UP_HEADER } from '@flotilla/protocol';
import { testDatabases, totpCode, type EmptyDatabase } from '@flotilla/controller/testing';
import { ADMIN_PASSWORD, ServiceFleet } from './service-fixture.js';

// People and tools against the controller's own HTTP server (`inject`, no port), on both
// storage engines: the first admin, sessions with CSRF, lockout, roles, token scopes,
// expiry and revocation, TOTP with step-up. Every refusal is checked to have changed
// nothing in the database, not only for its status code.

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
  headers: Record<string, string | string[] | number | undefined>;
}

for (const engine of testDatabases()) {
  describe(`people, sessions and tokens (${engine.name})`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase;
    let fleet: ServiceFleet;

    before(async () => {
      database = await engine.create();
      fleet = await ServiceFleet.start(database);
    });
    after(async () => {
      await fleet?.stop();
      await database?.remove();
    });

    const call = async (
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      options: {
        token?: string;
        cookie?: string;
        headers?: Record<string, string>;
        body?: unknown;
      } = {},
    ): Promise<Answer> => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      if (options.cookie !== undefined) headers.cookie = options.cookie;
      const response = await fleet.controller.app.inject({
        method,
        url,
        headers,
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
      return {
        status: response.statusCode,
        body: response.body === '' ? {} : response.json<Answer['body']>(),
        headers: response.headers,
      };
    };
    const code = (answer: Answer) => answer.body.error?.code;
    const userRows = () => fleet.services.store.users.list();
    const auditKinds = async () =>
      (await fleet.services.store.events.list({ limit: 500 })).map((e) => e.kind);

    it('starts with no user and a one-time setup token: refused when wrong, used once', async () => {
      const token = fleet.controller.setupToken;
      assert.ok(token, 'a first start prints a setup token');
      const file = join(fleet.dir, 'state', 'setup-token');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal((await call('GET', '/api/v1/hosts')).status, 401);

      const wrong = await call('POST', '/api/v1/setup', {
        body: { setupToken: 'flsetup_wrong', username: 'ada', password: ADMIN_PASSWORD },
      });
      assert.equal(code(wrong), 'invalid_credentials');
      const weak = await call('POST', '/api/v1/setup', {
        body: { setupToken: token, username: 'ada', password: 'short' },
      });
      assert.equal(code(weak), 'validation_failed');
      assert.deepEqual(await userRows(), []);

      await fleet.adminToken(); // the fixture's own setup, as `flotilla setup` does it
      assert.equal(existsSync(file), false, 'the setup token is gone once used');
      const again = await call('POST', '/api/v1/setup', {
        body: { setupToken: token, username: 'mallory', password: ADMIN_PASSWORD },
      });
      assert.equal(code(again), 'setup_done');
      assert.deepEqual(
        (await userRows()).map((u) => [u.username, u.role]),
        [['admin', 'admin']],
      );
      const row = (await userRows())[0];
      assert.match(row?.password_hash ?? '', /^\$argon2id\$/, 'argon2id, never the password');
    });

    it('logs a browser in with an HttpOnly, SameSite=Strict cookie and wants the CSRF token on changes', async () => {
      const login = await call('POST', '/api/v1/auth/session', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      });
      assert.equal(login.status, 201);
      const setCookie = String(login.headers['set-cookie']);
      assert.match(
        setCookie,
        /^flotilla_session=fls_[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/,
      );
      assert.equal(login.headers['cache-control'], 'no-store');
      assert.ok(
        !JSON.stringify(login.body).includes(setCookie.split(';')[0]?.split('=')[1] ?? '?'),
      );
      const cookie = setCookie.split(';')[0] ?? '';
      const csrf = String(login.body.csrfToken);

      assert.equal((await call('GET', '/api/v1/hosts', { cookie })).status, 200);
      const forged = await call('POST', '/api/v1/hosts', { cookie, body: { name: 'forged' } });
      assert.equal(forged.status, 403);
      assert.equal(code(forged), 'csrf_failed');
      const wrongCsrf = await call('POST', '/api/v1/hosts', {
        cookie,
        headers: { [CSRF_HEADER]: 'flc_not-it' },
        body: { name: 'forged' },
      });
      assert.equal(code(wrongCsrf), 'csrf_failed');
      assert.equal(await fleet.services.store.hosts.findByName('forged'), undefined);

      const made = await call('POST', '/api/v1/hosts', {
        cookie,
        headers: { [CSRF_HEADER]: csrf },
        body: { name: 'web1' },
      });
      assert.equal(made.status, 201);
      const created = (await fleet.services.store.events.list({ limit: 50 })).find(
        (e) => e.kind === 'host.registered',
      );
      assert.equal(created?.actor, 'admin', 'the audit log names the person');

      const me = await call('GET', '/api/v1/me', { cookie });
      assert.equal((me.body.user as { username: string }).username, 'admin');
      assert.equal(me.body.via, 'session');

      const out = await call('DELETE', '/api/v1/auth/session', {
        cookie,
        headers: { [CSRF_HEADER]: csrf },
      });
      assert.equal(out.status, 200);
      assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
      assert.equal((await call('GET', '/api/v1/hosts', { cookie })).status, 401, 'logged out');
    });

    it('ends an idle session, and every session on log out everywhere', async () => {
      const open = async () => {
        const login = await call('POST', '/api/v1/auth/session', {
          body: { username: 'admin', password: ADMIN_PASSWORD },
        });
        return {
          cookie: String(login.headers['set-cookie']).split(';')[0] ?? '',
          csrf: String(login.body.csrfToken),
        };
      };
      const idle = await open();
      fleet.clock.advance(8 * 3600_000 + 1000); // the default idle time is 8 hours
      assert.equal((await call('GET', '/api/v1/hosts', { cookie: idle.cookie })).status, 401);

      const first = await open();
      const second = await open();
      const out = await call('POST', '/api/v1/auth/logout-everywhere', {
        cookie: first.cookie,
        headers: { [CSRF_HEADER]: first.csrf },
      });
      assert.equal(out.status, 200);
      assert.ok(Number(out.body.sessionsRevoked) >= 2);
      assert.equal((await call('GET', '/api/v1/hosts', { cookie: first.cookie })).status, 401);
      assert.equal((await call('GET', '/api/v1/hosts', { cookie: second.cookie })).status, 401);
    });

    it('locks an account after five failed logins, names the address, and lets it in after the lockout', async () => {
      const { password } = await fleet.userWithToken('lena', 'viewer');
      for (let i = 0; i < 5; i++) {
        const failed = await call('POST', '/api/v1/auth/token', {
          body: { username: 'lena', password: 'not-her-password', name: 'cli' },
        });
        assert.equal(code(failed), 'invalid_credentials');
      }
      const locked = await call('POST', '/api/v1/auth/token', {
        body: { username: 'lena', password, name: 'cli' },
      });
      assert.equal(locked.status, 423);
      assert.equal(code(locked), 'account_locked');
      const unknown = await call('POST', '/api/v1/auth/token', {
        body: { username: 'nobody', password: 'whatever-it-is', name: 'cli' },
      });
      assert.equal(code(unknown), 'invalid_credentials', 'unknown users get the same answer');
      const events = await fleet.services.store.events.list({ limit: 500 });
      const failure = events.find((e) => e.kind === 'auth.login_failed' && e.actor === 'lena');
      const data = JSON.parse(failure?.data_json ?? '{}') as { address?: string };
      assert.equal(data.address, '127.0.0.1');
      assert.ok(events.some((e) => e.kind === 'auth.account_locked' && e.actor === 'lena'));

      fleet.clock.advance(15 * 60_000 + 1000);
      const back = await call('POST', '/api/v1/auth/token', {
        body: { username: 'lena', password, name: 'cli' },
      });
      assert.equal(back.status, 201);
    });

    it('gives each role what it needs and no more, and the assistant scope never decides', async () => {
      const host = await fleet.addHost('gpc0');
      assert.ok(host);
      await fleet.commit({ gpc0: 'gpc0-1' });
      const [pending] = await fleet.services.store.deployments.list({ limit: 5, host: 'gpc0' });
      assert.equal(pending?.status, 'awaiting_approval');
      const approve = { decision: 'approve', deploymentId: pending.id };

      const viewer = (await fleet.userWithToken('vera', 'viewer')).token;
      const operator = (await fleet.userWithToken('olga', 'operator')).token;
      const assistant = (await fleet.userWithToken('ai', 'admin', 'assistant')).token;
      const readOnlyAdmin = (await fleet.userWithToken('root2', 'admin', 'read')).token;

      assert.equal((await call('GET', '/api/v1/hosts', { token: viewer })).status, 200);
      const byViewer = await call('POST', '/api/v1/approvals', { token: viewer, body: approve });
      assert.equal(byViewer.status, 403);
      assert.equal(code(byViewer), 'forbidden');
      const byAssistant = await call('POST', '/api/v1/approvals', {
        token: assistant,
        body: approve,
      });
      assert.equal(code(byAssistant), 'scope_forbidden');
      const byReadToken = await call('POST', '/api/v1/approvals', {
        token: readOnlyAdmin,
        body: approve,
      });
      assert.equal(code(byReadToken), 'scope_forbidden');
      const assistantPolicy = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        token: assistant,
        body: { policy: 'manual' },
      });
      assert.equal(code(assistantPolicy), 'scope_forbidden');
      const assistantRollback = await call('POST', '/api/v1/hosts/gpc0/rollback', {
        token: assistant,
        body: {},
      });
      assert.equal(code(assistantRollback), 'scope_forbidden');
      assert.equal(
        (await call('GET', `/api/v1/deployments/${pending.id}/log`, { token: assistant })).status,
        200,
      );
      assert.equal(
        (await fleet.services.store.deployments.findById(pending.id))?.status,
        'awaiting_approval',
        'nothing was approved',
      );

      const operatorSettings = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        token: operator,
        body: { policy: 'monitor' },
      });
      assert.equal(code(operatorSettings), 'forbidden');
      const operatorUsers = await call('POST', '/api/v1/users', {
        token: operator,
        body: { username: 'eve', role: 'admin' },
      });
      assert.equal(code(operatorUsers), 'forbidden');
      assert.equal(await fleet.services.store.users.findByUsername('eve'), undefined);
      assert.equal((await fleet.services.store.policies.find('gpc0'))?.policy, 'manual');

      const byOperator = await call('POST', '/api/v1/approvals', {
        token: operator,
        body: approve,
      });
      assert.equal(byOperator.status, 200);
      const approved = (await fleet.services.store.events.list({ limit: 100 })).find(
        (e) => e.kind === 'approval.approved',
      );
      assert.equal(
        approved?.actor,
        'olga (token olga-default)',
        'the audit log names person and token',
      );

      const tooStrong = await call('POST', '/api/v1/tokens', {
        token: viewer,
        body: { name: 'escalate', scope: 'admin' },
      });
      assert.equal(code(tooStrong), 'forbidden', 'a token is never stronger than its user');
    });

    it('refuses expired and revoked tokens, shows a token once and keeps only its hash', async () => {
      const admin = await fleet.adminToken();
      const made = await call('POST', '/api/v1/tokens', {
        token: admin,
        body: { name: 'ci', scope: 'read', expiresInDays: 1 },
      });
      assert.equal(made.status, 201);
      assert.equal(made.headers['cache-control'], 'no-store');
      const secret = String(made.body.token);
      const id = (made.body.apiToken as { id: string }).id;
      const row = await fleet.services.store.users.findToken(id);
      assert.ok(row && row.token_hash !== secret && !JSON.stringify(row).includes(secret));
      const listed = await call('GET', '/api/v1/tokens', { token: admin });
      assert.ok(!JSON.stringify(listed.body).includes(secret));
      assert.equal((await call('GET', '/api/v1/hosts', { token: secret })).status, 200);
      const used = await fleet.services.store.users.findToken(id);
      assert.ok(used?.last_used_at, 'last use is recorded');

      fleet.clock.advance(86_400_000 + 1000);
      const expired = await call('GET', '/api/v1/hosts', { token: secret });
      assert.equal(expired.status, 401);
      assert.equal(code(expired), 'unauthorized');

      const other = await call('POST', '/api/v1/tokens', { token: admin, body: { name: 'gone' } });
      const otherSecret = String(other.body.token);
      const revoked = await call(
        'DELETE',
        `/api/v1/tokens/${(other.body.apiToken as { id: string }).id}`,
        {
          token: admin,
        },
      );
      assert.equal(revoked.status, 200);
      assert.equal((await call('GET', '/api/v1/hosts', { token: otherSecret })).status, 401);
      assert.ok((await auditKinds()).includes('token.revoked'));
    });

    it('asks a TOTP user for a code at login and a fresh one for destructive actions, each code once', async () => {
      const { token, password } = await fleet.userWithToken('tara', 'admin');
      const started = await call('POST', '/api/v1/me/totp', { token });
      assert.equal(started.status, 200);
      const secret = String(started.body.secret);
      assert.match(String(started.body.uri), /^otpauth:\/\/totp\//);
      const now = () => fleet.clock.now();
      const confirmed = await call('POST', '/api/v1/me/totp/confirm', {
        token,
        body: { code: totpCode(secret, now()) },
      });
      assert.equal(confirmed.status, 200);
      const recovery = confirmed.body.codes as string[];
      assert.equal(recovery.length, 10);

      fleet.clock.advance(30_000);
      const noCode = await call('POST', '/api/v1/auth/token', {
        body: { username: 'tara', password, name: 'cli' },
      });
      assert.equal(code(noCode), 'totp_required');
      const withCode = await call('POST', '/api/v1/auth/token', {
        body: { username: 'tara', password, name: 'cli', totp: totpCode(secret, now()) },
      });
      assert.equal(withCode.status, 201);
      const replayed = await call('POST', '/api/v1/auth/token', {
        body: { username: 'tara', password, name: 'cli', totp: totpCode(secret, now()) },
      });
      assert.equal(code(replayed), 'invalid_credentials', 'a code is good once');

      // Step-up: setting a host to auto asks for a code; manual does not.
      const toAuto = { policy: 'auto', force: true, reason: 'trusted box' };
      const noStepUp = await call('PUT', '/api/v1/hosts/gpc0/policy', { token, body: toAuto });
      assert.equal(code(noStepUp), 'step_up_required');
      assert.equal((await fleet.services.store.policies.find('gpc0'))?.policy, 'manual');
      const manual = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        token,
        body: { policy: 'manual' },
      });
      assert.equal(manual.status, 200);

      // Reboot: a fresh code and the host name typed out.
      fleet.clock.advance(30_000);
      const rebootCode = totpCode(secret, now());
      const mistyped = await call('POST', '/api/v1/hosts/gpc0/reboot', {
        token,
        headers: { [STEP_UP_HEADER]: rebootCode },
        body: { confirm: 'gpc1' },
      });
      assert.equal(code(mistyped), 'confirmation_required');
      const reused = await call('POST', '/api/v1/hosts/gpc0/reboot', {
        token,
        headers: { [STEP_UP_HEADER]: rebootCode },
        body: { confirm: 'gpc0' },
      });
      assert.equal(code(reused), 'step_up_required', 'the code was used by the request before');
      assert.ok(!(await auditKinds()).includes('host.reboot_requested'));

      const viaRecovery = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        token,
        headers: { [STEP_UP_HEADER]: recovery[0] ?? '' },
        body: toAuto,
      });
      assert.equal(viaRecovery.status, 200, 'a recovery code steps up too');
      assert.equal((await fleet.services.store.policies.find('gpc0'))?.policy, 'auto');
      const recoveryAgain = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        token,
        headers: { [STEP_UP_HEADER]: recovery[0] ?? '' },
        body: toAuto,
      });
      assert.equal(code(recoveryAgain), 'step_up_required', 'a recovery code is good once');
    });

    it('lets a session step up once for a few minutes', async () => {
      const user = await fleet.services.store.users.findByUsername('tara');
      assert.ok(user?.totp_secret);
      const secret = user.totp_secret;
      fleet.clock.advance(30_000);
      const login = await call('POST', '/api/v1/auth/session', {
        body: {
          username: 'tara',
          password: 'tara-password-1',
          totp: totpCode(secret, fleet.clock.now()),
        },
      });
      assert.equal(login.status, 201);
      const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
      const headers = { [CSRF_HEADER]: String(login.body.csrfToken) };
      const policy = { policy: 'auto', force: true, reason: 'login counts as fresh' };
      const fresh = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        cookie,
        headers,
        body: policy,
      });
      assert.equal(fresh.status, 200, 'the code given at login counts as fresh');
      fleet.clock.advance(6 * 60_000);
      const stale = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        cookie,
        headers,
        body: policy,
      });
      assert.equal(code(stale), 'step_up_required');
      const stepUp = await call('POST', '/api/v1/auth/step-up', {
        cookie,
        headers,
        body: { code: totpCode(secret, fleet.clock.now()) },
      });
      assert.equal(stepUp.status, 200);
      const again = await call('PUT', '/api/v1/hosts/gpc0/policy', {
        cookie,
        headers,
        body: policy,
      });
      assert.equal(again.status, 200);
    });

    it('locks the account of a token that guesses step-up codes', async () => {
      const { token, password } = await fleet.userWithToken('sam', 'admin');
      const started = await call('POST', '/api/v1/me/totp', { token });
      const secret = String(started.body.secret);
      fleet.clock.advance(30_000);
      const confirmed = await call('POST', '/api/v1/me/totp/confirm', {
        token,
        body: { code: totpCode(secret, fleet.clock.now()) },
      });
      assert.equal(confirmed.status, 200);
      for (let i = 0; i < 5; i++) {
        const guess = await call('POST', '/api/v1/hosts/gpc0/reboot', {
          token,
          headers: { [STEP_UP_HEADER]: String(100000 + i) },
          body: { confirm: 'gpc0' },
        });
        assert.equal(code(guess), 'step_up_required');
      }
      fleet.clock.advance(30_000);
      const right = await call('POST', '/api/v1/hosts/gpc0/reboot', {
        token,
        headers: { [STEP_UP_HEADER]: totpCode(secret, fleet.clock.now()) },
        body: { confirm: 'gpc0' },
      });
      assert.equal(code(right), 'account_locked', 'even a right code waits for the lockout');
      const login = await call('POST', '/api/v1/auth/token', {
        body: { username: 'sam', password, name: 'cli', totp: totpCode(secret, fleet.clock.now()) },
      });
      assert.equal(code(login), 'account_locked');
      assert.ok(!(await auditKinds()).includes('host.reboot_requested'));
    });

    it('lets an admin disable a user, which ends their tokens at once; the last admin stays admin', async () => {
      const admin = await fleet.adminToken();
      const { token } = await fleet.userWithToken('dan', 'operator');
      assert.equal((await call('GET', '/api/v1/hosts', { token })).status, 200);
      const disabled = await call('PATCH', '/api/v1/users/dan', {
        token: admin,
        body: { disabled: true },
      });
      assert.equal(disabled.status, 200);
      assert.equal((await call('GET', '/api/v1/hosts', { token })).status, 401);
      const self = await call('PATCH', '/api/v1/users/admin', {
        token: admin,
        body: { role: 'viewer' },
      });
      assert.equal(code(self), 'forbidden');
      assert.equal((await fleet.services.store.users.findByUsername('admin'))?.role, 'admin');
    });
  });
}

describe('an authenticating proxy in front', { timeout: 60_000 }, () => {
  const [engine] = testDatabases();
  let database: EmptyDatabase;
  let fleet: ServiceFleet;

  before(async () => {
    assert.ok(engine);
    database = await engine.create();
    fleet = await ServiceFleet.start(database, {
      config: { auth: { proxy: { userHeader: 'X-Forwarded-User', addresses: ['127.0.0.1'] } } },
    });
    await fleet.userWithToken('vera', 'viewer');
  });
  after(async () => {
    await fleet?.stop();
    await database?.remove();
  });

  const get = (remoteAddress: string, user: string) =>
    fleet.controller.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      remoteAddress,
      headers: { 'x-forwarded-user': user },
    });

  it('trusts the user header only from the configured proxy addresses, and only for known users', async () => {
    const fromProxy = await get('127.0.0.1', 'vera');
    assert.equal(fromProxy.statusCode, 200);
    assert.equal(fromProxy.json<{ via: string }>().via, 'proxy');
    assert.equal((await get('10.9.9.9', 'vera')).statusCode, 401, 'not from the proxy');
    assert.equal((await get('127.0.0.1', 'nobody')).statusCode, 401, 'unknown user');
    const change = await fleet.controller.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-user': 'vera' },
      payload: { name: 'x' },
    });
    assert.equal(change.json<{ error: { code: string } }>().error.code, 'csrf_failed');
  });
});
