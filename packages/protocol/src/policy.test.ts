import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditQuery } from './policy.js';

describe('AuditQuery', () => {
  it('reads instants with a zone as UTC', () => {
    const query = AuditQuery.parse({ since: '2026-03-01T14:05:09+01:00', actor: 'admin' });
    assert.equal(query.since, '2026-03-01T13:05:09.000Z');
    assert.equal(query.actor, 'admin');
    assert.equal(query.limit, 100);
  });

  it('refuses a time without a zone, and a range that ends before it starts', () => {
    assert.equal(AuditQuery.safeParse({ since: '2026-03-01T14:05' }).success, false);
    assert.equal(AuditQuery.safeParse({ since: 'yesterday' }).success, false);
    const backwards = AuditQuery.safeParse({
      since: '2026-03-02T00:00:00Z',
      until: '2026-03-01T00:00:00Z',
    });
    assert.equal(backwards.success, false);
    assert.deepEqual(backwards.error?.issues[0]?.path, ['since']);
  });
});
