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
    fleet = await ServiceFleet.start(database);
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
});
