import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditList, Release, ReleaseList, Revision } from '@flotilla/protocol';
import {
  GitFlakeRepo,
  JsonClient,
  SANDBOX_NIX_CONFIG,
  startNginx,
  writeHost,
  writeSandboxFlake,
  type NginxHandle,
} from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

// The controller behind a real nginx that terminates TLS on loopback and sets the headers
// Traefik sets (see startNginx's `likeTraefik`): people, the live event stream, an agent
// (enrollment, WebSocket, binary cache) and GitHub's webhook all go through it. The proxy
// is a trusted one, so client addresses and https come from its headers. What this proves
// is what examples/traefik/flotilla.yml must pass (checked by its own unit test).

const SECRET = 'reverse-proxy-webhook-secret-1234';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('the controller behind a reverse proxy', { timeout: 240_000 }, () => {
  let fleet: FleetFixture;
  let nginx: NginxHandle;
  let repo: GitFlakeRepo;
  let ca: Buffer;
  const stamp = Date.now();

  /** One request through the proxy over https, from a loopback address of our choice. */
  const call = (
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; from?: string } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${nginx.url}${path}`,
        {
          method,
          ca,
          localAddress: options.from ?? '127.0.0.1',
          headers: {
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
          },
          timeout: 15_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path}`)));
      req.on('error', reject);
      req.end(options.body);
    });
  const admin = () => ({ authorization: `Bearer ${fleet.controller.adminToken}` });

  before(async () => {
    fleet = await FleetFixture.start('reverse-proxy', {
      config: async (dir) => {
        repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(repo.work, [{ name: 'edge', version: `${stamp}-0` }]);
        await repo.commit('edge');
        await repo.push();
        const secretFile = join(dir, 'webhook-secret');
        await writeFile(secretFile, SECRET, { mode: 0o600 });
        return {
          trustedProxies: ['127.0.0.1'],
          repository: { url: repo.bare, pollIntervalSeconds: 3600, webhookSecretFile: secretFile },
          limits: {
            apiFailures: {
              maxFailures: 3,
              windowSeconds: 60,
              lockoutSeconds: 60,
              maxLockoutSeconds: 60,
            },
          },
        };
      },
    });
    nginx = await startNginx({
      dir: join(fleet.dir, 'nginx'),
      upstream: fleet.controller.url,
      likeTraefik: true,
    });
    ca = readFileSync(nginx.caFile!);
    const made = await fleet.api.post('/api/v1/users', {
      username: 'otto',
      role: 'operator',
      password: 'otto-password-1',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });

  after(async () => {
    await fleet?.stop();
    await nginx?.stop();
  });

  it('sees the forwarded client address and https: audit, lockout, Secure cookie, HSTS', async () => {
    // 127.0.0.2 guesses, claiming to be someone else: the proxy appends the real address,
    // and only that one (the last before the trusted proxy) counts.
    const guesses: Answer[] = [];
    for (let i = 0; i < 5; i++) {
      guesses.push(
        await call('POST', '/api/v1/auth/session', {
          from: '127.0.0.2',
          headers: { 'x-forwarded-for': '203.0.113.7' },
          body: JSON.stringify({ username: `nobody${i}`, password: 'wrong-password-1' }),
        }),
      );
    }
    // Past three failures (`limits.apiFailures`) the address is locked out.
    assert.deepEqual(
      guesses.map((g) => g.status),
      [401, 401, 401, 401, 429],
    );
    const failed = await fleet.api.get<AuditList>('/api/v1/audit?kind=auth.login_failed');
    const addresses = new Set(
      failed.body.entries.map((e) => (e.data as { address?: string }).address),
    );
    assert.deepEqual([...addresses], ['127.0.0.2']);

    // Another client behind the same proxy is not locked out, and gets a secure session.
    const login = await call('POST', '/api/v1/auth/session', {
      from: '127.0.0.3',
      body: JSON.stringify({ username: 'otto', password: 'otto-password-1' }),
    });
    assert.equal(login.status, 201, login.body);
    const cookie = String(login.headers['set-cookie'] ?? '');
    assert.match(cookie, /; Secure/);
    assert.equal(login.headers['strict-transport-security'], 'max-age=31536000');
    const me = await call('GET', '/api/v1/me', {
      from: '127.0.0.3',
      headers: { cookie: cookie.split(';')[0] ?? '' },
    });
    assert.equal(me.status, 200, me.body);
    // Straight to the controller (no proxy, plain http): no HSTS.
    const direct = await fetch(`${fleet.controller.url}/healthz`);
    assert.equal(direct.headers.get('strict-transport-security'), null);
  });

  it('streams live events through the proxy as they happen (no buffering)', async () => {
    const received: string[] = [];
    let wake: () => void = () => {};
    const req = httpsRequest(`${nginx.url}/api/v1/events`, {
      ca,
      headers: { ...admin(), accept: 'text/event-stream' },
    });
    const opened = new Promise<Answer['headers']>((resolve, reject) => {
      req.on('response', (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          received.push(chunk);
          wake();
        });
        resolve(response.headers);
      });
      req.on('error', reject);
    });
    req.end();
    const seen = (pattern: RegExp, what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within 5 s`)), 5_000);
        const check = () => {
          if (pattern.test(received.join(''))) {
            clearTimeout(timer);
            resolve();
          }
        };
        wake = check;
        check();
      });
    try {
      const headers = await opened;
      assert.match(String(headers['content-type']), /text\/event-stream/);
      await seen(/event: ready\n/, 'ready event');
      const added = await fleet.api.post('/api/v1/hosts', { name: 'late', mode: 'managed' });
      assert.equal(added.status, 201);
      await seen(/event: hosts\.changed\n/, 'hosts.changed event');
    } finally {
      req.destroy();
    }
  });

  it('lets an agent enroll, hold its WebSocket and fetch its release from /cache through the proxy', async () => {
    const release = await JsonClient.until(
      async () => {
        const list = (await fleet.api.get<ReleaseList>('/api/v1/releases?host=edge')).body.releases;
        return list.find((r: Release) => r.status === 'ready');
      },
      'a ready release of edge',
      120_000,
    );
    // The agent's Nix has a store of its own: the release must come from the cache.
    const store = join(fleet.dir, 'stores', 'edge');
    await fleet.addAgent('edge', {
      controllerUrl: nginx.url,
      gatewayUrl: `${nginx.url.replace(/^https/, 'wss')}/api/v1/agent/ws`,
      // No prefetch: the deployment's own fetch is the one this test follows through the
      // proxy (a plan prepared while it waited would have fetched the closure first).
      extraArgs: ['--ca-file', nginx.caFile!, '--prefetch', 'off'],
      env: {
        NIX_CONFIG: `${SANDBOX_NIX_CONFIG}\nstore = local?root=${store}\nssl-cert-file = ${nginx.caFile!}`,
      },
    });
    const created = await fleet.deploy({ host: 'edge', releaseId: release.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await fleet.waitForDeployment(created.body.id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    // narinfo and NAR came over https through the proxy, at the origin the agent dialled.
    assert.ok(
      done.log.some((l) => l.line === `fetching ${release.storePath} from ${nginx.url}/cache`),
      done.log.map((l) => l.line).join('\n'),
    );
  });

  it("accepts GitHub's signed webhook through the proxy and records the pushed commit", async () => {
    await writeHost(repo.work, { name: 'edge', version: `${stamp}-1` });
    const sha = await repo.commit('edge, next');
    await repo.push();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
    const answer = await call('POST', '/api/v1/webhooks/github', {
      headers: {
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
      body,
    });
    assert.ok(answer.status >= 200 && answer.status < 300, `${answer.status} ${answer.body}`);
    await JsonClient.until(async () => {
      const revisions = (
        await fleet.api.get<{ revisions: Revision[] }>('/api/v1/revisions?kind=branch')
      ).body.revisions;
      return revisions.some((r) => r.sha === sha) ? true : undefined;
    }, 'the pushed commit to be recorded');
  });
});
