import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeployWindow,
  describeWait,
  describeWindows,
  isWithinWindows,
  nextWindowStart,
} from './deploy-window.js';

const at = (iso: string) => new Date(iso);
const window = (input: Record<string, unknown>): DeployWindow => DeployWindow.parse(input);
const vienna = (start: string, end: string, days?: string[]) =>
  window({ start, end, timeZone: 'Europe/Vienna', ...(days ? { days } : {}) });

/** The obvious answer: try every minute. Slow, so only used to check the fast search. */
function scanMinutes(windows: DeployWindow[], from: Date): Date | null {
  if (isWithinWindows(windows, from)) return from;
  const first = Math.floor(from.getTime() / 60_000) * 60_000 + 60_000;
  for (let t = first; t <= from.getTime() + 8 * 86_400_000; t += 60_000) {
    if (isWithinWindows(windows, new Date(t))) return new Date(t);
  }
  return null;
}

describe('DeployWindow schema', () => {
  it('accepts a valid window and rejects unknown time zones', () => {
    assert.ok(DeployWindow.safeParse({ start: '02:00', end: '04:00', timeZone: 'UTC' }).success);
    const bad = DeployWindow.safeParse({ start: '02:00', end: '04:00', timeZone: 'Mars/Olympus' });
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /IANA time zone/);
  });

  it('rejects malformed times, empty day lists and unknown days', () => {
    for (const times of [
      { start: '2:00', end: '04:00' },
      { start: '24:00', end: '04:00' },
      { start: '02:60', end: '04:00' },
      { start: '02:00', end: '4pm' },
    ]) {
      assert.equal(DeployWindow.safeParse({ ...times, timeZone: 'UTC' }).success, false);
    }
    const base = { start: '02:00', end: '04:00', timeZone: 'UTC' };
    assert.equal(DeployWindow.safeParse({ ...base, days: [] }).success, false);
    assert.equal(DeployWindow.safeParse({ ...base, days: ['monday'] }).success, false);
    assert.equal(DeployWindow.safeParse({ ...base, extra: true }).success, false);
  });
});

describe('isWithinWindows', () => {
  it('allows any time when there are no windows', () => {
    assert.equal(isWithinWindows([], at('2026-05-05T12:34:00Z')), true);
    assert.equal(
      nextWindowStart([], at('2026-05-05T12:34:56Z'))?.toISOString(),
      '2026-05-05T12:34:56.000Z',
    );
  });

  it('includes the start minute and excludes the end minute, in local time', () => {
    // 2026-07-15 is a Wednesday; Vienna is UTC+2 in summer.
    const windows = [vienna('02:00', '04:00')];
    assert.equal(isWithinWindows(windows, at('2026-07-14T23:59:59Z')), false);
    assert.equal(isWithinWindows(windows, at('2026-07-15T00:00:00Z')), true);
    assert.equal(isWithinWindows(windows, at('2026-07-15T01:59:59Z')), true);
    assert.equal(isWithinWindows(windows, at('2026-07-15T02:00:00Z')), false);
  });

  it('honours day filters on the local day, not the UTC day', () => {
    const weekdays = [vienna('00:00', '06:00', ['mon', 'tue', 'wed', 'thu', 'fri'])];
    // Sunday 23:30 UTC is Monday 01:30 in Vienna (winter, UTC+1).
    assert.equal(isWithinWindows(weekdays, at('2026-01-04T23:30:00Z')), true);
    // Friday 23:30 UTC is Saturday 00:30 in Vienna.
    assert.equal(isWithinWindows(weekdays, at('2026-01-09T23:30:00Z')), false);
  });

  it('treats end <= start as crossing midnight, with days naming the start day', () => {
    // 2026-01-02 is a Friday.
    const fridayNight = [window({ days: ['fri'], start: '22:00', end: '02:00', timeZone: 'UTC' })];
    assert.equal(isWithinWindows(fridayNight, at('2026-01-02T21:59:00Z')), false);
    assert.equal(isWithinWindows(fridayNight, at('2026-01-02T22:00:00Z')), true);
    assert.equal(isWithinWindows(fridayNight, at('2026-01-03T01:59:00Z')), true);
    assert.equal(isWithinWindows(fridayNight, at('2026-01-03T02:00:00Z')), false);
    // Saturday evening and the Friday morning (Thursday's night) are outside.
    assert.equal(isWithinWindows(fridayNight, at('2026-01-03T22:30:00Z')), false);
    assert.equal(isWithinWindows(fridayNight, at('2026-01-02T01:00:00Z')), false);
  });

  it('treats start == end as a whole day from start', () => {
    const windows = [window({ days: ['mon'], start: '06:00', end: '06:00', timeZone: 'UTC' })];
    // 2026-01-05 is a Monday.
    assert.equal(isWithinWindows(windows, at('2026-01-05T05:59:00Z')), false);
    assert.equal(isWithinWindows(windows, at('2026-01-05T06:00:00Z')), true);
    assert.equal(isWithinWindows(windows, at('2026-01-06T05:59:00Z')), true);
    assert.equal(isWithinWindows(windows, at('2026-01-06T06:00:00Z')), false);
  });

  it('is allowed when any of several windows allows it', () => {
    const windows = [
      vienna('02:00', '03:00'),
      window({ start: '12:00', end: '13:00', timeZone: 'UTC' }),
    ];
    assert.equal(isWithinWindows(windows, at('2026-07-15T12:30:00Z')), true);
    assert.equal(isWithinWindows(windows, at('2026-07-15T00:30:00Z')), true);
    assert.equal(isWithinWindows(windows, at('2026-07-15T08:00:00Z')), false);
  });
});

describe('daylight-saving changes', () => {
  it('Europe/Vienna spring forward (2026-03-29 02:00 → 03:00): the window opens at 03:00', () => {
    const windows = [vienna('02:00', '04:00')];
    assert.equal(isWithinWindows(windows, at('2026-03-29T00:59:00Z')), false); // 01:59 CET
    assert.equal(isWithinWindows(windows, at('2026-03-29T01:00:00Z')), true); // 03:00 CEST
    assert.equal(isWithinWindows(windows, at('2026-03-29T02:00:00Z')), false); // 04:00 CEST
    assert.equal(
      nextWindowStart(windows, at('2026-03-28T23:00:00Z'))?.toISOString(),
      '2026-03-29T01:00:00.000Z',
    );
  });

  it('Europe/Vienna: a window inside the skipped hour opens the next day', () => {
    const windows = [vienna('02:15', '02:45')];
    assert.equal(
      nextWindowStart(windows, at('2026-03-28T23:00:00Z'))?.toISOString(),
      '2026-03-30T00:15:00.000Z',
    );
    // Only on Sundays: the next Sunday is beyond the 8-day search from Saturday.
    const sundays = [vienna('02:00', '02:30', ['sun'])];
    assert.equal(nextWindowStart(sundays, at('2026-03-27T23:00:00Z')), null);
    assert.equal(
      describeWait(sundays, at('2026-03-27T23:00:00Z')),
      'no deploy window opens in the next 8 days',
    );
  });

  it('Europe/Vienna fall back (2026-10-25 03:00 → 02:00): the repeated hour is inside twice', () => {
    const windows = [vienna('02:00', '03:00')];
    assert.equal(isWithinWindows(windows, at('2026-10-24T23:59:00Z')), false); // 01:59 CEST
    assert.equal(isWithinWindows(windows, at('2026-10-25T00:00:00Z')), true); // 02:00 CEST
    assert.equal(isWithinWindows(windows, at('2026-10-25T01:00:00Z')), true); // 02:00 CET
    assert.equal(isWithinWindows(windows, at('2026-10-25T01:59:00Z')), true); // 02:59 CET
    assert.equal(isWithinWindows(windows, at('2026-10-25T02:00:00Z')), false); // 03:00 CET

    const halfHour = [vienna('02:30', '03:00')];
    assert.equal(isWithinWindows(halfHour, at('2026-10-25T01:00:00Z')), false);
    assert.equal(
      nextWindowStart(halfHour, at('2026-10-25T01:00:00Z'))?.toISOString(),
      '2026-10-25T01:30:00.000Z',
    );
  });

  it('America/New_York: office hours keep their local time across both changes', () => {
    const office = [
      window({
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        start: '09:00',
        end: '17:00',
        timeZone: 'America/New_York',
      }),
    ];
    // Friday 2026-03-06 09:00 EST is 14:00Z; Monday 2026-03-09 09:00 EDT is 13:00Z.
    assert.equal(isWithinWindows(office, at('2026-03-06T14:00:00Z')), true);
    assert.equal(
      nextWindowStart(office, at('2026-03-07T12:00:00Z'))?.toISOString(),
      '2026-03-09T13:00:00.000Z',
    );
    // Clocks go back on Sunday 2026-11-01: Monday 09:00 EST is 14:00Z.
    assert.equal(
      nextWindowStart(office, at('2026-10-31T12:00:00Z'))?.toISOString(),
      '2026-11-02T14:00:00.000Z',
    );
    assert.equal(isWithinWindows(office, at('2026-11-02T13:30:00Z')), false);
  });

  it('finds the same next start as trying every minute', () => {
    const sets: DeployWindow[][] = [
      [vienna('02:00', '04:00')],
      [vienna('02:30', '03:00', ['sun'])],
      [vienna('23:30', '02:30', ['sat', 'sun'])],
      [
        window({ start: '01:30', end: '01:45', timeZone: 'America/New_York' }),
        vienna('02:15', '02:20'),
      ],
      [window({ days: ['wed'], start: '00:00', end: '00:00', timeZone: 'Australia/Lord_Howe' })],
    ];
    const starts = [
      '2026-03-27T10:07:00Z',
      '2026-03-28T23:59:30Z',
      '2026-10-24T22:00:00Z',
      '2026-11-01T05:30:00Z',
      '2026-04-04T13:00:00Z',
    ];
    for (const windows of sets) {
      for (const start of starts) {
        const from = at(start);
        assert.equal(
          nextWindowStart(windows, from)?.toISOString(),
          scanMinutes(windows, from)?.toISOString(),
          `${describeWindows(windows)} from ${start}`,
        );
      }
    }
  });
});

describe('describing windows', () => {
  it('names days, times, overnight windows and the zone', () => {
    assert.equal(describeWindows([]), 'any time');
    assert.equal(
      describeWindows([
        vienna('02:00', '04:00', ['fri', 'mon', 'tue', 'wed', 'thu']),
        window({ days: ['sat', 'sun'], start: '22:00', end: '06:00', timeZone: 'UTC' }),
      ]),
      'Mon–Fri 02:00–04:00 Europe/Vienna; Sat, Sun 22:00–06:00 (next day) UTC',
    );
    assert.equal(describeWindows([vienna('02:00', '04:00')]), 'daily 02:00–04:00 Europe/Vienna');
    assert.equal(
      describeWindows([vienna('02:00', '04:00', ['mon', 'wed', 'thu', 'fri'])]),
      'Mon, Wed–Fri 02:00–04:00 Europe/Vienna',
    );
  });

  it('says when a deployment will go out, in the local time of the window', () => {
    const windows = [vienna('02:00', '04:00', ['sun'])];
    // Saturday 2026-03-28 12:00Z; Sunday's 02:00 does not exist, the window opens at 03:00.
    assert.equal(
      describeWait(windows, at('2026-03-28T12:00:00Z')),
      'waits until Sun 03:00 Europe/Vienna',
    );
    assert.equal(describeWait(windows, at('2026-03-29T01:30:00Z')), 'inside a deploy window');
  });
});
