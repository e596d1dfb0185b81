import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import type { CreateHostResponse } from '@flotilla/protocol';
import { pino } from 'pino';
import { ServiceFleet } from './service-fixture.js';

// What the HTTP layer shows an attacker: headers on every answer, a health check that tells
// nothing about the fleet, lockouts after failed tokens, the client address behind the
// configured proxy only, and logs without query strings. One engine: nothing here depends
// on the database.
const [engine] = testDatabases();

const PROXY = '10.9.8.7';
const CLIENT = '203.0.113.50';

describe('the HTTP API against an attacker', { timeout: 60_000 }, () => {
  let database: EmptyDatabase;
  let fleet: ServiceFleet;
  let token: string;
  const logLines: Record<string, unknown>[] = [];

  before(async () => {
    assert.ok(engine);
    database = await engine.create();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    fleet = await ServiceFleet.start(database, {
      config: {
        publicUrl: 'https://fleet.example.org',
        trustedProxies: [PROXY],
        limits: {
          apiFailures: {
            maxFailures: 3,
            windowSeconds: 60,
            lockoutSeconds: 30,
            maxLockoutSeconds: 600,
          },
        },
      },
      logger: pino({ level: 'info' }, sink),
    });
    token = await fleet.adminToken();
  });
  after(async () => {
    await fleet?.stop();
    await database?.remove();
  });

  const inject = (options: {
    method?: 'GET' | 'POST';
    url: string;
    headers?: Record<string, string>;
    from?: string;
    body?: unknown;
  }) =>
    fleet.controller.app.inject({
      method: options.method ?? 'GET',
      url: options.url,
      headers: options.headers ?? {},
      remoteAddress: options.from ?? '127.0.0.1',
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });

  it('sends security headers and no-store on every answer, errors and 404s included', async () => {
    const authorized = { authorization: `Bearer ${token}` };
    for (const response of [
      await inject({ url: '/healthz' }),
      await inject({ url: '/api/v1/hosts', headers: authorized }),
      await inject({ url: '/api/v1/hosts' }),
      await inject({ url: '/nothing-here' }),
    ]) {
      const h = response.headers;
      assert.equal(h['x-content-type-options'], 'nosniff');
      assert.equal(h['x-frame-options'], 'DENY');
      assert.equal(h['referrer-policy'], 'no-referrer');
      assert.equal(h['strict-transport-security'], 'max-age=31536000', 'publicUrl is https');
      assert.match(String(h['content-security-policy']), /script-src 'self';/);
      assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/);
      assert.doesNotMatch(String(h['content-security-policy']), /unsafe-inline/);
      assert.equal(h['cache-control'], 'no-store');
    }
  });

  it('answers a host registration, which carries its token, with no-store', async () => {
    const created = await inject({
      method: 'POST',
      url: '/api/v1/hosts',
      headers: { authorization: `Bearer ${token}` },
      body: { name: 'hsb8', mode: 'managed' },
    });
    assert.equal(created.statusCode, 201);
    assert.ok(created.json<CreateHostResponse>().enrollment.token);
    assert.equal(created.headers['cache-control'], 'no-store');
  });

  it('tells anonymous callers only whether it works; details need a token', async () => {
    const anonymous = await inject({ url: '/healthz' });
    assert.equal(anonymous.statusCode, 200);
    assert.deepEqual(anonymous.json(), { status: 'ok', database: 'ok' });
    assert.equal((await inject({ url: '/api/v1/health' })).statusCode, 401);
    const details = await inject({
      url: '/api/v1/health',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(details.statusCode, 200);
    const body = details.json<{ version: string; agentsConnected: number }>();
    assert.equal(typeof body.version, 'string');
    assert.equal(body.agentsConnected, 0);
  });

  it('locks out an address that keeps guessing the admin token, with Retry-After; others go on', async () => {
    const guess = (from: string, secret = 'flt_admin_guess') =>
      inject({ url: '/api/v1/hosts', headers: { authorization: `Bearer ${secret}` }, from });
    for (let i = 0; i < 3; i++) assert.equal((await guess('198.51.100.1')).statusCode, 401);
    const locked = await guess('198.51.100.1');
    assert.equal(
      locked.statusCode,
      401,
      'the fourth failure still answers 401 and starts the lockout',
    );
    const refused = await guess('198.51.100.1', token);
    assert.equal(refused.statusCode, 429, 'even the right token waits out the lockout');
    assert.equal(refused.json<{ error: { code: string } }>().error.code, 'rate_limited');
    assert.equal(refused.headers['retry-after'], '30');
    assert.equal((await guess('198.51.100.2', token)).statusCode, 200, 'another address');
    fleet.clock.advance(30_000);
    assert.equal((await guess('198.51.100.1', token)).statusCode, 200, 'after the lockout');
  });

  it('counts failures against the client behind the trusted proxy, never a forged header', async () => {
    const attempt = (from: string, forwardedFor: string) =>
      inject({
        url: '/api/v1/hosts',
        headers: { authorization: 'Bearer wrong', 'x-forwarded-for': forwardedFor },
        from,
      });
    // Through the proxy: the client's address counts, so the proxy's other clients go on.
    for (let i = 0; i < 4; i++) await attempt(PROXY, CLIENT);
    assert.equal((await attempt(PROXY, CLIENT)).statusCode, 429);
    assert.equal((await attempt(PROXY, '203.0.113.51')).statusCode, 401);
    // Straight from the internet, a forged X-Forwarded-For changes nothing.
    for (let i = 0; i < 4; i++) await attempt('192.0.2.66', `192.0.2.${100 + i}`);
    assert.equal((await attempt('192.0.2.66', '192.0.2.200')).statusCode, 429);
  });

  it('logs failed authentication with the client address and without the query string', async () => {
    const secret = 'flt_admin_in_the_query_string';
    await inject({ url: `/api/v1/hosts?token=${secret}`, from: '192.0.2.77' });
    const text = logLines.map((line) => JSON.stringify(line)).join('\n');
    assert.ok(!text.includes(secret), 'the query string never reaches the log');
    const failure = logLines.find(
      (line) => line.msg === 'authentication failed' && line.client === '192.0.2.77',
    );
    assert.ok(failure, text.slice(-2000));
    assert.equal(failure.path, '/api/v1/hosts');
    const behindProxy = logLines.find(
      (line) => line.msg === 'authentication failed' && line.client === CLIENT,
    );
    assert.ok(behindProxy, 'the address behind the proxy is logged');
  });
});
