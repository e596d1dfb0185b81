import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '@flotilla/protocol';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet } from './service-fixture.js';

// The HTTP API as the contracts declare it, through the controller's own server (no port:
// `inject`). One engine is enough here: nothing below depends on the database.
const [engine] = testDatabases();

describe('the HTTP API from its contracts', { timeout: 60_000 }, () => {
  let database: EmptyDatabase;
  let fleet: ServiceFleet;
  let token: string;

  before(async () => {
    assert.ok(engine);
    database = await engine.create();
    fleet = await ServiceFleet.start(database, {
      config: {
        hosts: {
          web9: { windows: [{ days: ['sun'], start: '02:00', end: '04:00', timeZone: 'UTC' }] },
        },
      },
    });
    token = await fleet.adminToken();
  });
  after(async () => {
    await fleet?.stop();
    await database?.remove();
  });

  const inject = (url: string, headers: Record<string, string> = {}) =>
    fleet.controller.app.inject({ method: 'GET', url, headers });

  it('documents every contract in the OpenAPI document, streams and raw routes included', async () => {
    const response = await inject('/api/v1/openapi.json');
    assert.equal(response.statusCode, 200);
    const document = response.json<{ paths: Record<string, Record<string, unknown>> }>();
    for (const [name, contract] of Object.entries(api)) {
      const path = contract.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const operation = document.paths[path]?.[contract.method.toLowerCase()] as
        { operationId: string; 'x-access': string; responses: Record<string, unknown> } | undefined;
      assert.ok(operation, `${name} (${contract.method} ${contract.path}) is documented`);
      assert.equal(operation.operationId, name);
      assert.equal(operation['x-access'], contract.access);
    }
    const stream = document.paths['/api/v1/builds/{id}/log/stream']?.get as {
      responses: { '200': { content: Record<string, unknown> } };
    };
    assert.ok('text/event-stream' in stream.responses['200'].content);
    const nar = document.paths['/cache/nar/{file}']?.get as {
      responses: { '200': { content: Record<string, unknown> } };
    };
    assert.ok('application/x-nix-nar' in nar.responses['200'].content);
  });

  it('checks who may call on the route that matched, whatever the spelling of the path', async () => {
    assert.equal((await inject('/api/v1/hosts')).statusCode, 401);
    assert.equal((await inject('/%61pi/v1/hosts')).statusCode, 401, 'percent-encoded');
    assert.equal((await inject('/api/v1/hosts?x=1')).statusCode, 401);
    const authorized = { authorization: `Bearer ${token}` };
    assert.equal((await inject('/api/v1/hosts', authorized)).statusCode, 200);
    assert.equal((await inject('/%61pi/v1/hosts', authorized)).statusCode, 200);
    assert.equal((await inject('/healthz')).statusCode, 200, 'public');
    const unknown = await inject('/api/v1/nothing-here');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'not_found');
  });

  it('answers the contract status and refuses bad input with stable codes', async () => {
    const authorized = { authorization: `Bearer ${token}` };
    const missing = await inject('/api/v1/hosts/ghost/status', authorized);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ error: { code: string } }>().error.code, 'host_not_found');
    const bad = await inject('/api/v1/deployments?status=bogus', authorized);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'validation_failed');
    const created = await fleet.controller.app.inject({
      method: 'POST',
      url: '/api/v1/hosts',
      headers: authorized,
      payload: { name: 'web1' },
    });
    assert.equal(created.statusCode, api.createHost.response.status);
  });

  it("gives a viewer the settings' webhook flag and the deploy windows, never the secret", async () => {
    const { token: viewer } = await fleet.userWithToken('vic', 'viewer');
    const authorized = { authorization: `Bearer ${viewer}` };
    assert.equal((await inject('/api/v1/webhook')).statusCode, 401);
    const webhook = await inject('/api/v1/webhook', authorized);
    assert.equal(webhook.statusCode, 200);
    assert.deepEqual(webhook.json(), { path: '/api/v1/webhooks/github', secretConfigured: false });
    const windows = await inject('/api/v1/windows', authorized);
    assert.equal(windows.statusCode, 200);
    // The fixture's clock: Monday 2026-03-02 10:00 UTC.
    assert.deepEqual(windows.json(), {
      windows: [
        {
          scope: 'host',
          name: 'web9',
          windows: [{ days: ['sun'], start: '02:00', end: '04:00', timeZone: 'UTC' }],
          description: 'Sun 02:00–04:00 UTC',
          open: false,
          nextOpen: '2026-03-08T02:00:00.000Z',
        },
      ],
    });
  });

  it('filters the audit log by part of the actor and a time range, and refuses a bad time', async () => {
    const authorized = { authorization: `Bearer ${token}` };
    const entries = async (query: string) => {
      const response = await inject(`/api/v1/audit?${query}`, authorized);
      assert.equal(response.statusCode, 200, response.body);
      return response.json<{ entries: { actor: string; at: string }[] }>().entries;
    };
    const all = await entries('');
    const actor = all[0]?.actor;
    assert.ok(actor, 'the fixture wrote audit entries');
    const part = actor.slice(1, -1).toUpperCase();
    assert.deepEqual(
      await entries(`actor=${encodeURIComponent(part)}`),
      all.filter((e) => e.actor.toUpperCase().includes(part)),
    );
    assert.deepEqual(await entries('actor=no-such-actor'), []);
    const at = all[0]?.at ?? '';
    assert.ok(
      (await entries(`since=${encodeURIComponent(at)}&until=${encodeURIComponent(at)}`)).length > 0,
    );
    assert.deepEqual(await entries('since=2999-01-01T00:00:00%2B01:00'), []);
    for (const bad of [
      'since=yesterday',
      'until=2026-03-02T10:00',
      'since=2026-03-03T00:00:00Z&until=2026-03-02T00:00:00Z',
    ]) {
      const refused = await inject(`/api/v1/audit?${bad}`, authorized);
      assert.equal(refused.statusCode, 400, bad);
      assert.equal(refused.json<{ error: { code: string } }>().error.code, 'validation_failed');
    }
  });
});
