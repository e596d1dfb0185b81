import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEntry } from '@flotilla/protocol';
import { auditDetail, nextPageCommand, renderAuditTable } from './audit.view.js';
import { TimeFormat } from './format.js';
import { STORE_PATH } from './test-controller.js';

const utc = new TimeFormat('UTC', new Date('2025-01-01T12:00:00.000Z'));
const vienna = new TimeFormat('Europe/Vienna', utc.now);

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 7,
    at: '2025-01-01T11:00:00.000Z',
    kind: 'approval.approve',
    actor: 'admin',
    host: 'web1',
    deploymentId: null,
    data: null,
    ...overrides,
  };
}

describe('auditDetail', () => {
  it('puts the deployment, the change, the reason and the comment first', () => {
    const detail = auditDetail(
      entry({
        deploymentId: 'd1',
        data: {
          comment: 'ship\nit',
          extra: true,
          from: 'manual',
          to: 'auto',
          reason: 'stable',
          deploymentId: 'd1',
        },
      }),
      utc,
    );
    assert.equal(detail, 'd1; manual → auto; reason: stable; comment: ship it; extra=true');
  });

  it('shortens store paths and elides nested objects', () => {
    const detail = auditDetail(
      entry({ data: { storePath: STORE_PATH, hosts: ['web1', 'web2'], window: { a: 1 } } }),
      utc,
    );
    assert.equal(
      detail,
      'storePath=01234567…-nixos-system-web1-25.05; hosts=web1,web2; window={…}',
    );
  });

  it('handles empty, scalar and overlong data', () => {
    assert.equal(auditDetail(entry(), utc), '-');
    assert.equal(auditDetail(entry({ data: 'rebooted' }), utc), 'rebooted');
    const long = auditDetail(entry({ data: { reason: 'x'.repeat(300) } }), utc);
    assert.equal(long.length, 100);
    assert.ok(long.endsWith('…'));
  });

  it("shows times inside the data in the user's zone", () => {
    const data = { until: '2025-07-01T10:00:00.000Z', reason: 'soak ends 2025-01-01T23:30:00Z' };
    assert.equal(
      auditDetail(entry({ data }), vienna),
      'reason: soak ends 2025-01-02 00:30:00+01:00; until=2025-07-01 12:00:00+02:00',
    );
  });
});

describe('renderAuditTable', () => {
  it("lists entries in the user's zone and gives the command for the next page", () => {
    const text = renderAuditTable(
      { entries: [entry({ host: null, data: { reason: 'maintenance' } })], nextCursor: 7 },
      { kind: 'approval.approve', limit: 1 },
      vienna,
    );
    assert.deepEqual(text.split('\n'), [
      'TIME                       ACTOR  KIND              HOST  DETAIL',
      '2025-01-01 12:00:00+01:00  admin  approval.approve  -     reason: maintenance',
      '',
      'older entries: flotilla audit --kind approval.approve --limit 1 --before 7',
    ]);
    const inUtc = renderAuditTable({ entries: [entry()], nextCursor: null }, {}, utc);
    assert.match(inUtc, /^2025-01-01 11:00:00Z {2}admin/m);
  });

  it('ends without a footer on the last page, and says when there is nothing', () => {
    const text = renderAuditTable({ entries: [entry()], nextCursor: null }, {}, utc);
    assert.ok(!text.includes('older entries'));
    assert.equal(renderAuditTable({ entries: [], nextCursor: null }, {}, utc), 'no audit entries');
    assert.equal(nextPageCommand({ host: 'web1' }, 3), 'flotilla audit --host web1 --before 3');
  });
});
