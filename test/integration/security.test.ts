import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditList, HostList } from '@flotilla/protocol';
import { rawRequest, startNginx, type NginxHandle, type RawAnswer } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

// Attacks on a running controller, as a real process, directly and through a real nginx
// on loopback. Every refusal must carry a stable error code and leave nothing changed:
// the database is read back through the API after each attempt.

const errorCode = (answer: RawAnswer): string | undefined => {
  try {
    return (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

describe(
  'who may call is decided on the route that matched, directly and behind nginx',
  { timeout: 180_000 },
  () => {
    let fleet: FleetFixture;
    let nginx: NginxHandle;
    let viewer: string;

    before(async () => {
      // Dozens of refused requests from one address: the lockout (tested on its own below)
      // would answer them all `rate_limited` before the route's own check is seen.
      fleet = await FleetFixture.start('security-access', {
        config: () => ({
          limits: {
            apiFailures: {
              maxFailures: 100_000,
              windowSeconds: 60,
              lockoutSeconds: 1,
              maxLockoutSeconds: 1,
            },
          },
        }),
      });
      nginx = await startNginx({ dir: join(fleet.dir, 'nginx'), upstream: fleet.controller.url });
      const made = await fleet.api.post('/api/v1/users', {
        username: 'vera',
        role: 'viewer',
        password: 'vera-password-1',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const login = await fleet.api.post<{ token: string }>('/api/v1/auth/token', {
        username: 'vera',
        password: 'vera-password-1',
        name: 'security-test',
      });
      assert.equal(login.status, 201, JSON.stringify(login.body));
      viewer = login.body.token;
      await fleet.register('gpc0');
    });
    after(async () => {
      await nginx?.stop();
      await fleet?.stop();
    });

    const origins = () => [
      { name: 'direct', url: fleet.controller.url },
      { name: 'through nginx', url: nginx.url },
    ];
    const hostNames = async () =>
      (await fleet.api.get<HostList>('/api/v1/hosts')).body.hosts.map((h) => h.name).sort();

    // Spellings of GET /api/v1/hosts that a prefix check on the raw URL would miss, and
    // near misses that must not reach any handler.
    const readTargets = (origin: string) => [
      '/api/v1/hosts',
      '/%61pi/v1/hosts',
      '/api/v1/%68osts',
      '/api/v1/hosts/',
      `${origin}/api/v1/hosts`,
      'http://evil.example/api/v1/hosts',
      '//api/v1/hosts',
      '/api//v1/hosts',
      '/API/V1/HOSTS',
      '/Api/v1/hosts',
      '/api/v1/hosts;x',
      '/api/v1/./hosts',
      '/api/v1/x/../hosts',
      '/api/v1/hosts%3Fa=1',
      '/api/v1/hosts?token=flt_guess',
    ];

    it('answers no spelling of a route without credentials, and each refusal has a code', async () => {
      for (const { name, url } of origins()) {
        for (const target of readTargets(url)) {
          const answer = await rawRequest(url, { method: 'GET', target });
          assert.ok(
            [400, 401, 404].includes(answer.status),
            `${name} GET ${target}: ${answer.status} ${answer.body.slice(0, 200)}`,
          );
          if (answer.status !== 400 || errorCode(answer) !== undefined) {
            // nginx answers a request it cannot parse itself (400, HTML); the controller never
            // answers without a code.
            assert.ok(errorCode(answer), `${name} GET ${target}: a stable error code`);
          }
        }
      }
    });

    it('changes nothing for a write without credentials, however the path is spelled', async () => {
      const before = await hostNames();
      for (const { name, url } of origins()) {
        for (const target of [
          '/api/v1/hosts',
          '/%61pi/v1/hosts',
          `${url}/api/v1/hosts`,
          '//api/v1/hosts',
          '/api/v1/hosts;x',
        ]) {
          const answer = await rawRequest(url, {
            method: 'POST',
            target,
            body: JSON.stringify({ name: 'intruder' }),
          });
          assert.ok(answer.status >= 400, `${name} POST ${target}: ${answer.status}`);
        }
        const removal = await rawRequest(url, { method: 'DELETE', target: '/%61pi/v1/hosts/gpc0' });
        assert.ok(removal.status >= 400, `${name} DELETE: ${removal.status}`);
      }
      assert.deepEqual(await hostNames(), before);
      assert.ok(before.includes('gpc0'));
    });

    it('refuses a viewer who approves or removes through an encoded path, with forbidden', async () => {
      for (const { name, url } of origins()) {
        for (const target of ['/api/v1/approvals', '/%61pi/v1/approvals', '/api/v1/%61pprovals']) {
          const answer = await rawRequest(url, {
            method: 'POST',
            target,
            headers: { authorization: `Bearer ${viewer}` },
            body: JSON.stringify({ decision: 'approve', revisionId: 'rv1' }),
          });
          assert.equal(answer.status, 403, `${name} POST ${target}: ${answer.body}`);
          assert.equal(errorCode(answer), 'forbidden');
        }
        const removal = await rawRequest(url, {
          method: 'DELETE',
          target: '/api/v1/hosts/%67pc0',
          headers: { authorization: `Bearer ${viewer}` },
        });
        assert.equal(errorCode(removal), 'forbidden');
      }
      assert.ok((await hostNames()).includes('gpc0'));
    });

    it('reads a path parameter as one value: traversal, `;` and NUL never name another thing', async () => {
      const admin = { authorization: `Bearer ${fleet.controller.adminToken}` };
      for (const { name, url } of origins()) {
        for (const target of [
          '/api/v1/hosts/gpc0;evil/status',
          '/api/v1/hosts/..%2F..%2Fetc%2Fpasswd/status',
          '/api/v1/hosts/%2e%2e/status',
          '/api/v1/hosts/gpc0%00/status',
          '/api/v1/deployments/..%2Fhosts',
          '/api/v1/builds/%2e%2e%2F%2e%2e%2Fetc%2Fshadow/log',
          '/api/v1/revisions/..%5C..%5Cwindows',
          '/cache/nar/..%2F..%2Fetc%2Fshadow.nar',
        ]) {
          const answer = await rawRequest(url, { method: 'GET', target, headers: admin });
          assert.ok(
            [400, 401, 403, 404].includes(answer.status),
            `${name} GET ${target}: ${answer.status} ${answer.body.slice(0, 200)}`,
          );
          assert.ok(!answer.body.includes('root:'), `${name} GET ${target} leaks no file`);
        }
        const removal = await rawRequest(url, {
          method: 'DELETE',
          target: '/api/v1/hosts/gpc0;x',
          headers: admin,
        });
        assert.ok(removal.status >= 400, `${name} DELETE gpc0;x: ${removal.status}`);
      }
      assert.ok((await hostNames()).includes('gpc0'), 'gpc0 is still there');
    });

    it('still serves a permitted caller on the same spellings (the check is on the route, not the text)', async () => {
      const admin = { authorization: `Bearer ${fleet.controller.adminToken}` };
      for (const { name, url } of origins()) {
        for (const target of ['/api/v1/hosts', '/%61pi/v1/hosts', `${url}/api/v1/hosts`]) {
          const answer = await rawRequest(url, { method: 'GET', target, headers: admin });
          assert.equal(answer.status, 200, `${name} GET ${target}`);
          assert.ok((JSON.parse(answer.body) as HostList).hosts.some((h) => h.name === 'gpc0'));
        }
      }
    });
  },
);

describe(
  'people against a running controller: CSRF, lockouts, bodies',
  { timeout: 180_000 },
  () => {
    let fleet: FleetFixture;

    before(async () => {
      // The default limits: ten failures from one address in five minutes lock it out.
      fleet = await FleetFixture.start('security-people');
      const made = await fleet.api.post('/api/v1/users', {
        username: 'otto',
        role: 'operator',
        password: 'otto-password-1',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      await fleet.register('gpc0');
    });
    after(async () => {
      await fleet?.stop();
    });

    const hostNames = async () =>
      (await fleet.api.get<HostList>('/api/v1/hosts')).body.hosts.map((h) => h.name).sort();
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      rawRequest(fleet.controller.url, { method: 'POST', target: path, headers, body });

    it('refuses a browser session without its CSRF token, and keeps the cookie out of scripts', async () => {
      const login = await post(
        '/api/v1/auth/session',
        JSON.stringify({ username: 'otto', password: 'otto-password-1' }),
      );
      assert.equal(login.status, 201, login.body);
      assert.match(login.headers['set-cookie'] ?? '', /HttpOnly; SameSite=Strict/);
      const cookie = (login.headers['set-cookie'] ?? '').split(';')[0] ?? '';
      const csrf = (JSON.parse(login.body) as { csrfToken: string }).csrfToken;
      const before = await hostNames();
      const forged = await post('/api/v1/hosts', JSON.stringify({ name: 'forged' }), { cookie });
      assert.equal(forged.status, 403);
      assert.equal(errorCode(forged), 'csrf_failed');
      const operatorSetting = await rawRequest(fleet.controller.url, {
        method: 'PUT',
        target: '/api/v1/hosts/gpc0/policy',
        headers: { cookie, 'x-csrf-token': csrf },
        body: JSON.stringify({ policy: 'monitor' }),
      });
      assert.equal(errorCode(operatorSetting), 'forbidden', 'an operator changes no settings');
      assert.deepEqual(await hostNames(), before);
      const policies = await fleet.api.get<{ policies: { host: string; policy: string }[] }>(
        '/api/v1/policies',
      );
      assert.equal(policies.body.policies.find((p) => p.host === 'gpc0')?.policy, 'manual');
      const noSession = await rawRequest(fleet.controller.url, {
        method: 'GET',
        target: '/api/v1/me',
        headers: { cookie: 'flotilla_session=fls_made-up' },
      });
      assert.equal(errorCode(noSession), 'unauthorized');
    });

    it('answers an oversized or malformed body with a code and stores nothing', async () => {
      const before = await hostNames();
      const admin = { authorization: `Bearer ${fleet.controller.adminToken}` };
      const huge = await rawRequest(fleet.controller.url, {
        method: 'POST',
        target: '/api/v1/hosts',
        headers: { ...admin, 'content-type': 'application/json' },
        declaredLength: 2 * 1024 * 1024,
      });
      assert.equal(huge.status, 413);
      assert.equal(errorCode(huge), 'payload_too_large');
      const broken = await post('/api/v1/hosts', '{"name": "half', admin);
      assert.equal(broken.status, 400);
      assert.ok(errorCode(broken));
      const optionShaped = await rawRequest(fleet.controller.url, {
        method: 'PUT',
        target: '/api/v1/repository',
        headers: admin,
        body: JSON.stringify({ url: '--upload-pack=touch /tmp/flotilla-pwned', branch: 'main' }),
      });
      assert.equal(optionShaped.status, 400, optionShaped.body);
      assert.equal(errorCode(optionShaped), 'validation_failed');
      assert.deepEqual(await hostNames(), before);
      const repository = await fleet.api.get<{ repository: unknown }>('/api/v1/repository');
      assert.equal(repository.body.repository ?? null, null, 'no repository was linked');
    });

    it('locks an account after five wrong passwords, and an address that keeps guessing', async () => {
      const attempts: RawAnswer[] = [];
      // Five at otto lock the account; then other names, until the address is locked out.
      for (let i = 0; i < 14; i++) {
        const username = i < 6 ? 'otto' : `user${i}`;
        attempts.push(
          await post(
            '/api/v1/auth/token',
            JSON.stringify({ username, password: `guess-number-${i}`, name: 'x' }),
          ),
        );
      }
      const codes = attempts.map(errorCode);
      assert.deepEqual(codes.slice(0, 5), Array(5).fill('invalid_credentials'));
      assert.equal(codes[5], 'account_locked', 'the account locks after five');
      const limited = attempts.at(-1);
      assert.equal(limited?.status, 429);
      assert.equal(errorCode(limited ?? attempts[0]!), 'rate_limited');
      assert.ok(Number(limited?.headers['retry-after']) > 0);
      const right = await post(
        '/api/v1/auth/token',
        JSON.stringify({ username: 'otto', password: 'otto-password-1', name: 'x' }),
      );
      assert.ok([423, 429].includes(right.status), 'the right password waits too');
      // Another address is not locked out, and reads what happened.
      const audit = await rawRequest(fleet.controller.url, {
        method: 'GET',
        target: '/api/v1/audit?kind=auth.login_failed',
        headers: { authorization: `Bearer ${fleet.controller.adminToken}` },
        from: '127.0.0.2',
      });
      assert.equal(audit.status, 200, audit.body);
      const entries = (JSON.parse(audit.body) as AuditList).entries;
      assert.ok(entries.length >= 5);
      assert.ok(entries.every((e) => (e.data as { address?: string }).address === '127.0.0.1'));
    });
  },
);
