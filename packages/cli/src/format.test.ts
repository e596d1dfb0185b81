import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  columns,
  formatBytes,
  formatDuration,
  formatPercent,
  keyValues,
  relativeTime,
  shortStorePath,
  table,
  timeOfDay,
} from './format.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('relativeTime', () => {
  it('picks the largest whole unit', () => {
    assert.equal(relativeTime('2025-01-01T11:59:48.000Z', now), '12s ago');
    assert.equal(relativeTime('2025-01-01T11:55:00.000Z', now), '5m ago');
    assert.equal(relativeTime('2025-01-01T09:00:00.000Z', now), '3h ago');
    assert.equal(relativeTime('2024-12-30T12:00:00.000Z', now), '2d ago');
  });

  it('reads null as never and small skew as just now', () => {
    assert.equal(relativeTime(null, now), 'never');
    assert.equal(relativeTime('2025-01-01T12:00:00.400Z', now), 'just now');
    assert.equal(relativeTime('2025-01-01T12:00:10.000Z', now), 'just now');
    assert.equal(relativeTime('2025-01-01T12:05:00.000Z', now), 'in 5m');
  });

  it('passes through what is not a time', () => {
    assert.equal(relativeTime('soon', now), 'soon');
  });
});

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(42.9), '42s');
    assert.equal(formatDuration(312), '5m 12s');
    assert.equal(formatDuration(300), '5m');
    assert.equal(formatDuration(7500), '2h 5m');
    assert.equal(formatDuration(3 * 86_400 + 4 * 3600 + 59), '3d 4h');
    assert.equal(formatDuration(86_400), '1d');
    assert.equal(formatDuration(-5), '0s');
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

describe('timeOfDay', () => {
  it('shows UTC hours, minutes and seconds', () => {
    assert.equal(timeOfDay('2025-01-01T08:09:10.123Z'), '08:09:10');
  });
});
