import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './api-client.js';
import { ApiError } from './errors.js';
import {
  sampleDeployment,
  sampleHost,
  startTestController,
  STORE_PATH,
  type TestController,
} from './test-controller.js';

const counts = { total: 3, online: 2, offline: 1, neverSeen: 0 };

function expectApiError(code: string, status: number | null) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    return true;
  };
}

describe('ApiClient', () => {
  let controller: TestController;
  let client: ApiClient;

  before(async () => {
    controller = await startTestController({
      'GET /healthz': () => ({
        status: 503,
        json: { status: 'degraded', database: 'unavailable' },
      }),
      'GET /api/v1/health': () => ({
        status: 503,
        json: { status: 'degraded', database: 'unavailable', version: '0.1.0', agentsConnected: 2 },
      }),
      'GET /api/v1/hosts': ({ query }) =>
        query.get('cursor') === null
          ? {
              json: {
                hosts: [sampleHost({ name: 'a' }), sampleHost({ name: 'b' })],
                nextCursor: 'b',
                counts,
              },
            }
          : { json: { hosts: [sampleHost({ name: 'c' })], nextCursor: null, counts } },
      'GET /api/v1/hosts/web1': () => ({ json: sampleHost() }),
      'GET /api/v1/hosts/ghost': () => ({
        status: 404,
        json: { error: { code: 'host_not_found', message: 'no host "ghost"' } },
      }),
      'GET /api/v1/hosts/broken': () => ({ json: { ...sampleHost(), status: 'sleeping' } }),
      'GET /api/v1/hosts/proxy': () => ({ status: 502, text: '<html>Bad Gateway</html>' }),
      'POST /api/v1/deployments': ({ body }) => ({
        status: 201,
        json: { deployment: sampleDeployment(body as object), notes: [] },
      }),
      'GET /api/v1/deployments/dep-1/log': ({ query }) => ({
        json: { lines: [], last: Number(query.get('after')), status: 'queued' },
      }),
    });
    client = new ApiClient({ url: `${controller.url}/`, token: 'admin-token' });
  });

  after(() => controller.close());

  it('sends the bearer token and parses the answer', async () => {
    const host = await client.call('getHost', { params: { name: 'web1' } });
    assert.equal(host.name, 'web1');
    const request = controller.requests.at(-1);
    assert.equal(request?.authorization, 'Bearer admin-token');
    assert.equal(request?.path, '/api/v1/hosts/web1');
  });

  it('follows nextCursor to list all hosts', async () => {
    const list = await client.listAllHosts({ status: 'online' });
    assert.deepEqual(
      list.hosts.map((h) => h.name),
      ['a', 'b', 'c'],
    );
    assert.equal(list.nextCursor, null);
    assert.deepEqual(list.counts, counts);
    const queries = controller.requests
      .filter((r) => r.path === '/api/v1/hosts')
      .map((r) => r.query.toString());
    assert.deepEqual(queries, ['status=online', 'cursor=b&status=online']);
  });

  it('posts validated bodies with defaults applied', async () => {
    const decision = await client.call('createDeployment', {
      body: { host: 'web1', storePath: STORE_PATH },
    });
    assert.equal(decision.deployment.action, 'switch');
    assert.deepEqual(controller.requests.at(-1)?.body, {
      host: 'web1',
      storePath: STORE_PATH,
      action: 'switch',
      force: false,
    });
  });

  it('encodes path parameters and refuses a bad one before sending', async () => {
    const before = controller.requests.length;
    await assert.rejects(
      client.call('getHost', { params: { name: '../etc' } }),
      expectApiError('validation_failed', null),
    );
    await assert.rejects(
      client.call('createDeployment', {
        body: { host: 'web1', storePath: STORE_PATH, force: true },
      }),
      expectApiError('validation_failed', null),
    );
    assert.equal(controller.requests.length, before);
  });

  it('rejects an invalid request before sending it', async () => {
    const before = controller.requests.length;
    await assert.rejects(
      client.call('createDeployment', { body: { host: 'web1', storePath: '/tmp/result' } }),
      expectApiError('validation_failed', null),
    );
    assert.equal(controller.requests.length, before);
  });

  it('passes query parameters', async () => {
    const page = await client.call('getDeploymentLog', {
      params: { id: 'dep-1' },
      query: { after: 7, limit: 10 },
    });
    assert.equal(page.last, 7);
    assert.equal(controller.requests.at(-1)?.query.toString(), 'after=7&limit=10');
  });

  it("carries the controller's error code and status", async () => {
    await assert.rejects(
      client.call('getHost', { params: { name: 'ghost' } }),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.code, 'host_not_found');
        assert.equal(error.status, 404);
        assert.equal(error.message, 'no host "ghost"');
        return true;
      },
    );
  });

  it('reports answers it cannot read', async () => {
    await assert.rejects(
      client.call('getHost', { params: { name: 'broken' } }),
      expectApiError('invalid_response', 200),
    );
    await assert.rejects(
      client.call('getHost', { params: { name: 'proxy' } }),
      expectApiError('unexpected_response', 502),
    );
  });

  it('returns a degraded health answer instead of throwing', async () => {
    const health = await client.health();
    assert.deepEqual(health, { status: 'degraded', database: 'unavailable' });
    const details = await client.healthDetails();
    assert.equal(details.status, 'degraded');
    assert.equal(details.agentsConnected, 2);
  });

  it('names the URL when the controller cannot be reached', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const offline = new ApiClient({ url: `http://127.0.0.1:${port}` });
    await assert.rejects(offline.health(), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, 'connection_failed');
      assert.match(
        error.message,
        new RegExp(
          `cannot reach controller at http://127\\.0\\.0\\.1:${port}: is it running\\? \\(ECONNREFUSED\\)`,
        ),
      );
      return true;
    });
  });
});
