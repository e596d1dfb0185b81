import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graduationOf } from './graduation.js';

const now = new Date('2026-03-15T00:00:00.000Z');
const policies: Record<string, 'manual' | 'auto' | 'monitor'> = { gpc0: 'auto', hsb1: 'manual' };
const policyOf = (host: string) => policies[host];

describe('graduationOf', () => {
  it('is eligible once stable long enough and the hosts it follows are on auto', () => {
    const status = graduationOf(
      { host: 'hsb1', policy: 'manual', pinned: false, stableSince: '2026-03-01T00:00:00.000Z' },
      { stableDays: 14, after: ['gpc0'] },
      policyOf,
      now,
    );
    assert.equal(status.eligible, true, status.reasons.join('; '));
    assert.equal(status.stableDays, 14);
  });

  it('says what is missing', () => {
    const status = graduationOf(
      { host: 'hsb0', policy: 'manual', pinned: true, stableSince: '2026-03-10T00:00:00.000Z' },
      { stableDays: 30, after: ['hsb1'] },
      policyOf,
      now,
    );
    assert.equal(status.eligible, false);
    assert.deepEqual(status.reasons, [
      'pinned',
      'stable 5.0 of 30 days',
      'hsb1 is not on auto yet',
    ]);
  });

  it('needs criteria, and a manual host', () => {
    assert.deepEqual(
      graduationOf(
        { host: 'x', policy: 'manual', pinned: false, stableSince: null },
        null,
        policyOf,
        now,
      ).reasons,
      ['no graduation criteria configured'],
    );
    assert.deepEqual(
      graduationOf(
        { host: 'gpc0', policy: 'auto', pinned: false, stableSince: null },
        { after: [] },
        policyOf,
        now,
      ).reasons,
      ['policy is auto, not manual'],
    );
  });
});
