import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEntry } from '@flotilla/protocol';
import { filterAudit, mayHaveOlder, parseLocalTime } from './audit-filter.js';

const entry = (id: number, at: string, actor: string): AuditEntry => ({
  id,
  at,
  kind: 'approval.approved',
  actor,
  host: 'web1',
  deploymentId: null,
  data: null,
});

const entries = [
  entry(3, '2026-01-03T00:00:00.000Z', 'policy:auto'),
  entry(2, '2026-01-02T00:00:00.000Z', 'admin (token ci)'),
  entry(1, '2026-01-01T00:00:00.000Z', 'Ana'),
];

describe('audit entries filtered by actor and time', () => {
  it('matches part of the actor in any case', () => {
    assert.deepEqual(
      filterAudit(entries, { actor: 'TOKEN', from: null, to: null }).map((e) => e.id),
      [2],
    );
    assert.equal(filterAudit(entries, { actor: ' ', from: null, to: null }).length, 3);
  });

  it('keeps the time range inclusive at both ends', () => {
    const from = Date.parse('2026-01-02T00:00:00.000Z');
    const to = Date.parse('2026-01-03T00:00:00.000Z');
    assert.deepEqual(
      filterAudit(entries, { actor: '', from, to }).map((e) => e.id),
      [3, 2],
    );
  });

  it('reads typed times and says when older pages may matter', () => {
    assert.equal(parseLocalTime(''), null);
    assert.equal(parseLocalTime('not a time'), null);
    assert.equal(typeof parseLocalTime('2026-01-02T10:00'), 'number');
    assert.equal(mayHaveOlder(entries, null), true);
    assert.equal(mayHaveOlder(entries, Date.parse('2026-01-02T00:00:00.000Z')), false);
    assert.equal(mayHaveOlder([], null), false);
  });
});
