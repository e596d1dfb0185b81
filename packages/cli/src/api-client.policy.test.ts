import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './api-client.js';
import { ApiError } from './errors.js';
import {
  IDS,
  policyRoutes,
  sampleHostStatus,
  startTestController,
  type TestController,
} from './test-controller.js';

function expectApiError(code: string, status: number | null) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    return true;
  };
}

describe('ApiClient: policies, approvals, rollouts and audit', () => {
  let controller: TestController;
  let client: ApiClient;

  before(async () => {
    controller = await startTestController({
      ...policyRoutes(),
      'GET /api/v1/hosts/web2/status': () => ({
        json: { ...sampleHostStatus(), state: 'sleeping' },
      }),
    });
    client = new ApiClient({ url: controller.url, token: 'admin-token' });
  });

  after(() => controller.close());

  function last() {
    const request = controller.requests.at(-1);
    assert.ok(request);
    return request;
  }

  it('lists policies and sets one with a reason', async () => {
    const list = await client.call('listPolicies');
    assert.deepEqual(
      list.policies.map((p) => [p.host, p.locked]),
      [
        ['db1', true],
        ['web1', false],
      ],
    );
    const policy = await client.call('setPolicy', {
      params: { name: 'web1' },
      body: { policy: 'auto', reason: 'stable', force: true },
    });
    assert.equal(policy.policy, 'auto');
    assert.equal(last().method, 'PUT');
    assert.equal(last().path, '/api/v1/hosts/web1/policy');
    assert.equal(last().authorization, 'Bearer admin-token');
    assert.deepEqual(last().body, { policy: 'auto', reason: 'stable', force: true });
  });

  it("carries policy_locked when the config file owns a host's policy", async () => {
    await assert.rejects(
      client.call('setPolicy', { params: { name: 'db1' }, body: { policy: 'auto' } }),
      expectApiError('policy_locked', 409),
    );
  });

  it('pins with a reason and unpins with DELETE', async () => {
    const pinned = await client.call('pinHost', {
      params: { name: 'web1' },
      body: { reason: 'bisect' },
    });
    assert.equal(pinned.pinReason, 'bisect');
    assert.deepEqual(last().body, { reason: 'bisect' });
    const unpinned = await client.call('unpinHost', { params: { name: 'web1' } });
    assert.equal(unpinned.pinned, false);
    assert.equal(last().method, 'DELETE');
    assert.equal(last().body, undefined);
  });

  it('lists approvals and posts a decision with the defaults filled in', async () => {
    const list = await client.call('listApprovals');
    assert.equal(list.approvals.length, 2);
    const result = await client.call('decide', {
      body: { decision: 'approve', revisionId: IDS.revision, hosts: ['web1', 'web2'] },
    });
    assert.equal(result.decided.length, 2);
    assert.deepEqual(last().body, {
      decision: 'approve',
      revisionId: IDS.revision,
      hosts: ['web1', 'web2'],
      allowSuperseded: false,
      force: false,
    });
  });

  it('refuses a decision naming two targets before sending it', async () => {
    const count = controller.requests.length;
    await assert.rejects(
      client.call('decide', {
        body: { decision: 'reject', deploymentId: 'd1', releaseId: IDS.release },
      }),
      expectApiError('validation_failed', null),
    );
    assert.equal(controller.requests.length, count);
  });

  it('carries nothing_to_approve', async () => {
    await assert.rejects(
      client.call('decide', { body: { decision: 'approve', revisionId: 'rv0none' } }),
      expectApiError('nothing_to_approve', 404),
    );
  });

  it('reads graduation, waves and a rollout', async () => {
    assert.equal((await client.call('graduation')).hosts[0]?.eligible, true);
    assert.equal((await client.call('listWaves')).waves[0]?.soakSeconds, 1800);
    const rollout = await client.call('getRollout', { params: { id: IDS.revision } });
    assert.equal(rollout.halted, true);
    assert.equal(last().path, `/api/v1/rollouts/${IDS.revision}`);
  });

  it('pages the audit log with its filters', async () => {
    const page = await client.call('listAudit', {
      query: { host: 'web1', kind: 'policy.set', before: 50, limit: 1 },
    });
    assert.equal(page.nextCursor, 42);
    assert.equal(last().query.toString(), 'host=web1&kind=policy.set&before=50&limit=1');
  });

  it("parses a host's status and rejects one that breaks the protocol", async () => {
    const status = await client.call('getHostStatus', { params: { name: 'web1' } });
    assert.equal(status.state, 'up_to_date');
    await assert.rejects(
      client.call('getHostStatus', { params: { name: 'web2' } }),
      expectApiError('invalid_response', 200),
    );
  });
});
