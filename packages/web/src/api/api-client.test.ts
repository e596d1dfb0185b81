import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiClient, type CsrfStore } from './api-client.js';
import { ApiError } from './api-error.js';

/** What the test controller saw: method, path and the headers that matter here. */
interface Seen {
  method: string;
  path: string;
  csrf: string | undefined;
  totp: string | undefined;
  body: string;
}

const HOST = {
  name: 'web1',
  mode: 'managed',
  os: 'linux',
  status: 'online',
  agentVersion: null,
  agentOutdated: false,
  protocolVersion: null,
  connectedAt: null,
  lastSeenAt: null,
  facts: null,
  factsAt: null,
  metrics: null,
  createdAt: '2026-03-02T10:00:00.000Z',
};

describe('the browser API client against an HTTP server', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Seen[] = [];
  let answers: { status: number; body: unknown }[] = [];

  before(async () => {
    server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({
          method: request.method ?? '',
          path: request.url ?? '',
          csrf: request.headers['x-csrf-token'] as string | undefined,
          totp: request.headers['x-flotilla-totp'] as string | undefined,
          body,
        });
        const answer = answers.shift() ?? { status: 500, body: {} };
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const csrf = (): CsrfStore & { token: string | null } => {
    const store = {
      token: 'flc_token' as string | null,
      get: () => store.token,
      set: (token: string | null) => {
        store.token = token;
      },
    };
    return store;
  };

  it('builds paths and queries from the contract and parses the answer', async () => {
    seen.length = 0;
    answers = [{ status: 200, body: HOST }];
    const client = new ApiClient({ csrf: csrf(), baseUrl });
    const host = await client.call('getHost', { params: { name: 'web1' } });
    assert.equal(host.name, 'web1');
    assert.equal(seen[0]?.path, '/api/v1/hosts/web1');
    assert.equal(seen[0]?.csrf, undefined, 'reads carry no CSRF token');
  });

  it('sends the CSRF token on changes, and refuses a bad body before sending', async () => {
    seen.length = 0;
    answers = [
      {
        status: 200,
        body: {
          host: 'web1',
          mode: 'managed',
          policy: 'manual',
          source: 'default',
          locked: false,
          stableSince: null,
          pinned: true,
          pinReason: 'x',
          wave: null,
          updatedAt: 'now',
          updatedBy: 'ada',
        },
      },
    ];
    const client = new ApiClient({ csrf: csrf(), baseUrl });
    await client.call('pinHost', { params: { name: 'web1' }, body: { reason: 'x' } });
    assert.equal(seen[0]?.csrf, 'flc_token');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { reason: 'x' });
    await assert.rejects(
      client.call('rebootHost', { params: { name: 'Not A Host!' }, body: { confirm: 'x' } }),
      (error: unknown) => error instanceof ApiError && error.code === 'validation_failed',
    );
    assert.equal(seen.length, 1, 'nothing sent for the refused call');
  });

  it('asks for a TOTP code when the controller wants step-up, and sends once more with it', async () => {
    seen.length = 0;
    answers = [
      { status: 403, body: { error: { code: 'step_up_required', message: 'needs a code' } } },
      { status: 202, body: { requestId: 'r1', host: 'web1' } },
    ];
    const client = new ApiClient({ csrf: csrf(), baseUrl });
    const asked: string[] = [];
    client.setStepUpPrompt(async (action) => {
      asked.push(action);
      return ' 123456 ';
    });
    const answer = await client.call('rebootHost', {
      params: { name: 'web1' },
      body: { confirm: 'web1' },
    });
    assert.equal(answer.requestId, 'r1');
    assert.deepEqual(asked, ['Reboot a managed host']);
    assert.equal(seen[0]?.totp, undefined);
    assert.equal(seen[1]?.totp, '123456');
  });

  it('fails with step_up_cancelled when the person cancels, and keeps other codes', async () => {
    answers = [
      { status: 403, body: { error: { code: 'step_up_required', message: 'needs a code' } } },
    ];
    const client = new ApiClient({ csrf: csrf(), baseUrl });
    client.setStepUpPrompt(async () => null);
    await assert.rejects(
      client.call('rebootHost', { params: { name: 'web1' }, body: { confirm: 'web1' } }),
      (error: unknown) => error instanceof ApiError && error.code === 'step_up_cancelled',
    );
    answers = [{ status: 404, body: { error: { code: 'host_not_found', message: 'no host' } } }];
    await assert.rejects(
      client.call('getHost', { params: { name: 'ghost' } }),
      (error: unknown) =>
        error instanceof ApiError && error.code === 'host_not_found' && error.status === 404,
    );
  });

  it('keeps the CSRF token from the login answer and forgets it at logout', async () => {
    const store = csrf();
    store.token = null;
    answers = [
      {
        status: 201,
        body: {
          user: {
            id: 'u1',
            username: 'ada',
            role: 'admin',
            totpEnabled: false,
            disabled: false,
            createdAt: 'now',
            createdBy: 'setup',
          },
          csrfToken: 'flc_new',
          expiresAt: 'later',
        },
      },
      { status: 200, body: { sessionsRevoked: 1 } },
    ];
    const client = new ApiClient({ csrf: store, baseUrl });
    await client.login({ username: 'ada', password: 'pw' });
    assert.equal(store.token, 'flc_new');
    await client.logout();
    assert.equal(store.token, null);
  });
});
