import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditApiFilter, parseLocalTime } from './audit-filter.js';

const NONE = { host: '', kind: '', actor: '', from: '', to: '' };

describe("the audit page's filters as the API's", () => {
  it('leaves out empty filters and trims the typed ones', () => {
    assert.deepEqual(auditApiFilter(NONE), {});
    assert.deepEqual(
      auditApiFilter({ ...NONE, host: 'web1', kind: ' approval.approved ', actor: ' ' }),
      {
        host: 'web1',
        kind: 'approval.approved',
      },
    );
    assert.deepEqual(auditApiFilter({ ...NONE, actor: ' token ci ' }), { actor: 'token ci' });
  });

  it('sends typed times as UTC instants, the end through its whole minute, a reversed range swapped', () => {
    const from = '2026-01-02T10:00';
    const to = '2026-01-02T11:30';
    const fromIso = new Date(parseLocalTime(from) ?? 0).toISOString();
    const toEnd = new Date((parseLocalTime(to) ?? 0) + 59_999).toISOString();
    assert.deepEqual(auditApiFilter({ ...NONE, from, to }), { since: fromIso, until: toEnd });
    // Reversed: the range between the two, whichever was typed where.
    assert.deepEqual(auditApiFilter({ ...NONE, from: to, to: from }), {
      since: new Date((parseLocalTime(from) ?? 0) + 59_999).toISOString(),
      until: new Date(parseLocalTime(to) ?? 0).toISOString(),
    });
    assert.equal(parseLocalTime('not a time'), null);
    assert.deepEqual(auditApiFilter({ ...NONE, from: 'not a time' }), {});
  });
});
