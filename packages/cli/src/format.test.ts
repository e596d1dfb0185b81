import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  columns,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatPercent,
  formatTimeOfDay,
  keyValues,
  logHeading,
  relativeTime,
  shortStorePath,
  spanLabel,
  table,
  TimeFormat,
} from './format.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('relativeTime', () => {
  it('reads past times in the duration style', () => {
    assert.equal(relativeTime('2025-01-01T11:59:48.000Z', now), '12 s ago');
    assert.equal(relativeTime('2025-01-01T11:59:58.800Z', now), '1.2 s ago');
    assert.equal(relativeTime('2025-01-01T11:54:48.000Z', now), '5 m 12 s ago');
    assert.equal(relativeTime('2025-01-01T11:55:00.000Z', now), '5 m ago');
    assert.equal(relativeTime('2025-01-01T09:00:00.000Z', now), '3 h ago');
    assert.equal(relativeTime('2024-12-30T12:00:00.000Z', now), '2 d ago');
  });

  it('reads future times as "in", not "just now"', () => {
    assert.equal(relativeTime('2025-01-01T12:00:42.000Z', now), 'in 42 s');
    assert.equal(relativeTime('2025-01-01T12:03:10.000Z', now), 'in 3 m 10 s');
    assert.equal(relativeTime('2025-01-01T12:00:10.000Z', now), 'in 10 s');
    assert.equal(relativeTime('2025-01-01T12:00:01.500Z', now), 'in 1.5 s');
  });

  it('reads null as never and less than a second either way as just now', () => {
    assert.equal(relativeTime(null, now), 'never');
    assert.equal(relativeTime('2025-01-01T12:00:00.400Z', now), 'just now');
    assert.equal(relativeTime('2025-01-01T11:59:59.100Z', now), 'just now');
  });

  it('passes through what is not a time', () => {
    assert.equal(relativeTime('soon', now), 'soon');
  });
});

describe('formatDuration', () => {
  it('keeps sub-second precision where it matters', () => {
    assert.equal(formatDuration(0.74), '740 ms');
    assert.equal(formatDuration(0.57), '570 ms');
    assert.equal(formatDuration(0.001), '1 ms');
    assert.equal(formatDuration(1.2), '1.2 s');
    assert.equal(formatDuration(1), '1 s');
    assert.equal(formatDuration(9.99), '9.9 s');
    assert.equal(formatDuration(10), '10 s');
    assert.equal(formatDuration(42.9), '42 s');
  });

  it('shows the two largest units from a minute on', () => {
    assert.equal(formatDuration(312), '5 m 12 s');
    assert.equal(formatDuration(300), '5 m');
    assert.equal(formatDuration(3605), '1 h');
    assert.equal(formatDuration(7500), '2 h 5 m');
    assert.equal(formatDuration(3 * 86_400 + 4 * 3600 + 59), '3 d 4 h');
    assert.equal(formatDuration(86_400), '1 d');
    assert.equal(formatDuration(86_400 + 60), '1 d');
  });

  it('reads zero, negative and non-numbers as zero', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(-5), '0 s');
    assert.equal(formatDuration(Number.NaN), '0 s');
  });

  it('measures spans to the millisecond', () => {
    assert.equal(spanLabel('2025-01-01T12:00:00.000Z', '2025-01-01T12:00:00.740Z'), '740 ms');
    assert.equal(spanLabel('2025-01-01T12:00:00.000Z', '2025-01-01T12:05:12.300Z'), '5 m 12 s');
    assert.equal(spanLabel('2025-01-01T12:00:00.000Z', null), '-');
  });
});

describe('formatDateTime', () => {
  it('shows UTC with a Z', () => {
    assert.equal(formatDateTime('2026-03-01T13:05:09.987Z', 'UTC'), '2026-03-01 13:05:09Z');
  });

  it("shows a zone's wall clock with its offset, across the date line", () => {
    const zone = 'Europe/Vienna';
    assert.equal(formatDateTime('2026-03-01T13:05:09Z', zone), '2026-03-01 14:05:09+01:00');
    assert.equal(formatDateTime('2026-07-01T12:00:00Z', zone), '2026-07-01 14:00:00+02:00');
    assert.equal(formatDateTime('2025-12-31T23:30:00Z', zone), '2026-01-01 00:30:00+01:00');
    assert.equal(
      formatDateTime('2026-01-15T05:00:00Z', 'America/New_York'),
      '2026-01-15 00:00:00-05:00',
    );
    assert.equal(
      formatDateTime('2026-01-15T05:00:00Z', 'Asia/Kolkata'),
      '2026-01-15 10:30:00+05:30',
    );
  });

  it('follows daylight saving: the offset tells the repeated hour apart', () => {
    const zone = 'Europe/Vienna';
    // Spring: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    assert.equal(formatDateTime('2026-03-29T00:59:59Z', zone), '2026-03-29 01:59:59+01:00');
    assert.equal(formatDateTime('2026-03-29T01:00:00Z', zone), '2026-03-29 03:00:00+02:00');
    // Autumn: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:30 happens twice.
    assert.equal(formatDateTime('2026-10-25T00:30:00Z', zone), '2026-10-25 02:30:00+02:00');
    assert.equal(formatDateTime('2026-10-25T01:30:00Z', zone), '2026-10-25 02:30:00+01:00');
  });

  it('passes through what is not a time', () => {
    assert.equal(formatDateTime('tomorrow', 'UTC'), 'tomorrow');
  });
});

describe('formatTimeOfDay', () => {
  it("shows hours, minutes and seconds on the zone's clock", () => {
    assert.equal(formatTimeOfDay('2025-01-01T08:09:10.123Z', 'UTC'), '08:09:10');
    assert.equal(formatTimeOfDay('2025-01-01T08:09:10.123Z', 'Europe/Vienna'), '09:09:10');
    assert.equal(formatTimeOfDay('2026-03-29T01:00:00Z', 'Europe/Vienna'), '03:00:00');
    assert.equal(formatTimeOfDay('2025-01-01T23:00:00Z', 'Europe/Vienna'), '00:00:00');
  });
});

describe('TimeFormat', () => {
  const vienna = new TimeFormat('Europe/Vienna', now);

  it('stamps a time with the absolute and the relative reading', () => {
    assert.equal(vienna.stamp('2025-01-01T11:55:00.000Z'), '2025-01-01 12:55:00+01:00 (5 m ago)');
    assert.equal(vienna.stamp('2025-01-01T12:00:42.000Z'), '2025-01-01 13:00:42+01:00 (in 42 s)');
    assert.equal(vienna.stamp(null), '-');
    assert.equal(vienna.stamp(null, 'never'), 'never');
    assert.equal(vienna.stamp('n/a'), 'n/a');
  });

  it('measures how long since a time', () => {
    assert.equal(vienna.since('2025-01-01T11:58:30.000Z'), '1 m 30 s');
    assert.equal(vienna.since('garbage'), '-');
  });

  it('rewrites the ISO times in free text', () => {
    assert.equal(
      vienna.localize('soaking until 2025-01-01T12:30:00.000Z, then 2025-07-01T00:00:00Z.'),
      'soaking until 2025-01-01 13:30:00+01:00, then 2025-07-01 02:00:00+02:00.',
    );
    assert.equal(vienna.localize('no time here: 2025-01-01'), 'no time here: 2025-01-01');
  });

  it('names the zone of log stamps once, above the log', () => {
    assert.equal(logHeading(vienna), 'Log (times in Europe/Vienna):');
    assert.equal(logHeading(new TimeFormat('UTC', now)), 'Log (times in UTC):');
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(8 * 1024 ** 3), '8.0 GiB');
    assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB');
  });

  it('formats percentages and guards a zero whole', () => {
    assert.equal(formatPercent(1, 6), '17%');
    assert.equal(formatPercent(1, 0), '-');
  });
});

describe('shortStorePath', () => {
  it('keeps 8 hash characters and the name', () => {
    assert.equal(
      shortStorePath('/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-hsb1-25.05'),
      '01234567…-nixos-system-hsb1-25.05',
    );
  });

  it('leaves other paths alone and shows null as a dash', () => {
    assert.equal(shortStorePath('/run/current-system'), '/run/current-system');
    assert.equal(shortStorePath(null), '-');
  });
});

describe('table', () => {
  it('aligns columns to the widest cell and trims line ends', () => {
    const text = table(
      ['NAME', 'N'],
      [
        ['a', '1'],
        ['long-name', '100'],
      ],
      ['left', 'right'],
    );
    assert.equal(text, ['NAME         N', 'a            1', 'long-name  100'].join('\n'));
  });

  it('copes with missing cells', () => {
    assert.equal(columns([['a', 'b'], ['c']]), 'a  b\nc');
  });
});

describe('keyValues', () => {
  it('aligns values after the labels', () => {
    assert.equal(
      keyValues(
        [
          ['Name', 'web1'],
          ['Status', 'online'],
        ],
        '  ',
      ),
      '  Name:    web1\n  Status:  online',
    );
  });
});
