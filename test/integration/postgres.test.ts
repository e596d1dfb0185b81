import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditList, Deployment } from '@flotilla/protocol';
import { openDatabase } from '@flotilla/controller';
import { freshPostgresDatabase, type EmptyDatabase } from '@flotilla/controller/testing';
import { buildHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

describe('a controller on PostgreSQL', { timeout: 240_000 }, () => {
  let database: EmptyDatabase;
  let fleet: FleetFixture;

  before(async () => {
    database = await freshPostgresDatabase();
    fleet = await FleetFixture.start('postgres', {
      env: { FLOTILLA_DATABASE_URL: database.url },
    });
    await fleet.addAgent('pgalpha');
  });

  after(async () => {
    await fleet?.stop();
    await database?.remove();
  });

  it('deploys to a registered host and loses nothing when the controller crashes', async () => {
    assert.ok(
      fleet.controller.process.lines.some(
        (l) => l.includes('"msg":"database ready"') && l.includes('"dialect":"postgres"'),
      ),
      'the controller opened PostgreSQL',
    );
    await assert.rejects(
      access(join(fleet.controller.stateDir, 'flotilla.db')),
      'no SQLite file was created',
    );

    const flake = join(fleet.dir, 'flake');
    await writeSandboxFlake(flake, [{ name: 'pgalpha', version: '3' }]);
    const storePath = await buildHost(`path:${flake}`, 'pgalpha');
    const created = await fleet.deploy({
      host: 'pgalpha',
      storePath,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await fleet.waitForDeployment(created.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.ok(done.log.length > 0, 'the activation log is stored');

    // The rows are in PostgreSQL itself, not only in the controller's answers.
    const direct = await openDatabase({ url: database.url });
    try {
      const row = await direct.db
        .selectFrom('deployments')
        .select(['status', 'result_system'])
        .where('id', '=', created.body.id)
        .executeTakeFirst();
      assert.deepEqual(row, { status: 'succeeded', result_system: storePath });
    } finally {
      await direct.db.destroy();
    }

    await fleet.crashAndRestartController();

    const again = await fleet.api.get<Deployment & { log: unknown[] }>(
      `/api/v1/deployments/${created.body.id}`,
    );
    assert.equal(again.body.status, 'succeeded');
    assert.equal(again.body.resultSystem, storePath);
    assert.equal(again.body.log.length, done.log.length, 'the whole log is still there');
    const host = await fleet.waitForHost(
      'pgalpha',
      (h) => h.status === 'online' && h.facts?.system.current === storePath,
    );
    assert.equal(host.mode, 'managed');
    const audit = await fleet.api.get<AuditList>('/api/v1/audit?host=pgalpha');
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    assert.ok(audit.body.entries.length > 0, 'the audit log survived');
    assert.ok(audit.body.entries.every((e) => typeof e.id === 'number'));
  });
});
