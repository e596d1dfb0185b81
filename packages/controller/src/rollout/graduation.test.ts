import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graduationOf, type GraduationInput } from './graduation.js';

const now = new Date('2026-03-15T00:00:00.000Z');

function host(input: Partial<GraduationInput> & { host: string }): GraduationInput {
  return {
    policy: 'manual',
    pinned: false,
    stableSince: '2026-01-01T00:00:00.000Z',
    policySince: '2026-01-01T00:00:00.000Z',
    ...input,
  };
}

const fleet = new Map(
  [
    // On auto since 3.2 days, stable for longer.
    host({ host: 'gpc0', policy: 'auto', policySince: '2026-03-11T19:12:00.000Z' }),
    host({ host: 'hsb1' }),
  ].map((h) => [h.host, h]),
);
const hostOf = (name: string) => fleet.get(name);

describe('graduationOf', () => {
  it('is eligible once stable long enough and the hosts it follows are on auto', () => {
    const status = graduationOf(
      host({ host: 'hsb1', stableSince: '2026-03-01T00:00:00.000Z' }),
      { stableDays: 14, after: ['gpc0'] },
      hostOf,
      now,
    );
    assert.equal(status.eligible, true, status.reasons.join('; '));
    assert.equal(status.stableDays, 14);
    assert.deepEqual(status.after, [
      { host: 'gpc0', requiredDays: null, stableDays: 3.2, met: true },
    ]);
  });

  it('says what is missing', () => {
    const status = graduationOf(
      host({ host: 'hsb0', pinned: true, stableSince: '2026-03-10T00:00:00.000Z' }),
      { stableDays: 30, after: ['hsb1', 'nope'] },
      hostOf,
      now,
    );
    assert.equal(status.eligible, false);
    assert.deepEqual(status.reasons, [
      'pinned',
      'stable 5.0 of 30 days',
      'hsb1 is not on auto yet',
      'nope is not registered yet',
    ]);
  });

  it('waits for a host to run on auto without trouble for the days asked of it', () => {
    const criteria = { after: [{ host: 'gpc0', stableDays: 14 }] };
    const waiting = graduationOf(host({ host: 'hsb8' }), criteria, hostOf, now);
    assert.equal(waiting.eligible, false);
    assert.deepEqual(waiting.reasons, ['gpc0 stable on auto 3.2 of 14 days']);
    assert.deepEqual(waiting.after, [
      { host: 'gpc0', requiredDays: 14, stableDays: 3.2, met: false },
    ]);

    const later = new Date('2026-03-25T19:12:00.000Z');
    assert.equal(graduationOf(host({ host: 'hsb8' }), criteria, hostOf, later).eligible, true);

    // Trouble after going on auto restarts the count: the later of the two counts.
    const troubled = new Map(fleet).set(
      'gpc0',
      host({
        host: 'gpc0',
        policy: 'auto',
        policySince: '2026-03-11T19:12:00.000Z',
        stableSince: '2026-03-24T00:00:00.000Z',
      }),
    );
    const afterTrouble = graduationOf(
      host({ host: 'hsb8' }),
      criteria,
      (name) => troubled.get(name),
      later,
    );
    assert.deepEqual(afterTrouble.reasons, ['gpc0 stable on auto 1.8 of 14 days']);
  });

  it('needs criteria, and a manual host', () => {
    assert.deepEqual(
      graduationOf(host({ host: 'x', stableSince: null }), null, hostOf, now).reasons,
      ['no graduation criteria configured'],
    );
    assert.deepEqual(
      graduationOf(host({ host: 'gpc0', policy: 'auto' }), { after: [] }, hostOf, now).reasons,
      ['policy is auto, not manual'],
    );
  });
});
