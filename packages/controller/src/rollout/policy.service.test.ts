import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlotillaError } from '@flotilla/protocol';
import { openDatabase, type Db } from '../storage/database.js';
import { EventRepository } from '../storage/event.repository.js';
import { HostRepository } from '../storage/host.repository.js';
import { PolicyRepository } from '../storage/policy.repository.js';
import { PolicyService } from './policy.service.js';
import { ManualClock } from '@flotilla/runtime';

const DAY = 86_400_000;

describe('PolicyService (real SQLite, injected clock)', () => {
  let dir: string;
  let db: Db;
  let clock: ManualClock;
  let policies: PolicyService;
  const notified: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-policy-'));
    db = (await openDatabase({ url: join(dir, 'test.db') })).db;
    clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    const hosts = new HostRepository(db);
    for (const [name, mode] of [
      ['gpc0', 'managed'],
      ['hsb1', 'managed'],
      ['csb0', 'managed'],
      ['imac0', 'monitor'],
    ] as const) {
      await hosts.insert({
        name,
        mode,
        os: null,
        tokenHash: name,
        createdAt: clock.now().toISOString(),
      });
    }
    policies = new PolicyService({
      policies: new PolicyRepository(db),
      hosts,
      events: new EventRepository(db),
      clock,
      config: {
        hosts: {
          csb0: { policy: 'manual', healthChecks: [], windows: [] },
          hsb1: { healthChecks: [], windows: [], graduation: { stableDays: 14, after: ['gpc0'] } },
        },
        rollout: {
          waves: [
            {
              name: 'canary',
              hosts: ['gpc0'],
              soakSeconds: 0,
              windows: [],
              graduation: { stableDays: 3, after: [] },
            },
          ],
        },
      },
      notify: async (event) => {
        notified.push(`${event.kind}:${event.host}`);
      },
    });
  });

  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts every managed host on manual and monitor hosts on monitor', async () => {
    const list = (await policies.list()).policies;
    assert.deepEqual(
      list.map((p) => [p.host, p.policy, p.locked]),
      [
        ['csb0', 'manual', true],
        ['gpc0', 'manual', false],
        ['hsb1', 'manual', false],
        ['imac0', 'monitor', false],
      ],
    );
  });

  it('refuses to change a policy the config owns', async () => {
    await assert.rejects(
      policies.set('csb0', 'auto', 'admin'),
      (e: unknown) => e instanceof FlotillaError && e.code === 'policy_locked',
    );
    await assert.rejects(
      policies.set('imac0', 'auto', 'admin'),
      (e: unknown) => e instanceof FlotillaError && e.code === 'host_not_managed',
    );
  });

  it('counts stable days with the clock and proposes promotion once eligible', async () => {
    let gpc0 = (await policies.graduation()).hosts.find((h) => h.host === 'gpc0');
    assert.equal(gpc0?.eligible, false);
    assert.deepEqual(gpc0?.reasons, ['stable 0.0 of 3 days']);
    clock.ms += 3 * DAY;
    gpc0 = (await policies.graduation()).hosts.find((h) => h.host === 'gpc0');
    assert.equal(gpc0?.eligible, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(notified.includes('graduation.eligible:gpc0'));
    const hsb1 = (await policies.graduation()).hosts.find((h) => h.host === 'hsb1');
    assert.deepEqual(hsb1?.reasons, ['stable 3.0 of 14 days', 'gpc0 is not on auto yet']);
  });

  it('demotes an auto host on trouble, restarts its stable period and records why', async () => {
    await policies.set('gpc0', 'auto', 'admin', 'graduated');
    clock.ms += DAY;
    await policies.onTrouble('gpc0', 'deployment d1 rolled back: exited 2', 'd1');
    const gpc0 = await policies.get('gpc0');
    assert.equal(gpc0.policy, 'manual');
    assert.equal(gpc0.stableSince, clock.now().toISOString());
    assert.ok(notified.includes('host.demoted:gpc0'));
    const events = await new EventRepository(db).list({ host: 'gpc0', limit: 10 });
    assert.deepEqual(events.map((e) => e.kind).slice(0, 2), ['host.demoted', 'host.promoted']);
  });

  it('pins and unpins with the reason in the audit log', async () => {
    assert.equal((await policies.pin('hsb1', 'admin', 'manual rollback')).pinned, true);
    assert.equal(
      (await policies.graduation()).hosts
        .find((h) => h.host === 'hsb1')
        ?.reasons.includes('pinned'),
      true,
    );
    assert.equal((await policies.unpin('hsb1', 'admin')).pinned, false);
  });
});
