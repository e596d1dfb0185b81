import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@flotilla/runtime';
import { CacheCredentials } from './cache-credentials.js';

describe('CacheCredentials', () => {
  it('binds each credential to its host for ten minutes', () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const credentials = new CacheCredentials(clock);
    const a = credentials.issue('hsb1');
    const b = credentials.issue('gpc0');
    assert.match(a.token, /^fltc_[A-Za-z0-9_-]{43}$/);
    assert.equal(a.expiresAt, '2026-03-01T10:10:00.000Z');
    assert.equal(credentials.hostOf(a.token), 'hsb1');
    assert.equal(credentials.hostOf(b.token), 'gpc0');
    assert.equal(credentials.hostOf('fltc_made-up'), undefined);
    clock.advance(9 * 60_000);
    assert.equal(credentials.hostOf(a.token), 'hsb1');
    clock.advance(60_000);
    assert.equal(credentials.hostOf(a.token), undefined, 'expired');
  });

  it("ends a host's credentials at once, and keeps only a few per host", () => {
    const clock = new ManualClock();
    const credentials = new CacheCredentials(clock);
    const tokens = Array.from({ length: 10 }, () => credentials.issue('hsb1').token);
    assert.equal(credentials.hostOf(tokens[0] ?? ''), undefined, 'the oldest went first');
    assert.equal(credentials.hostOf(tokens[9] ?? ''), 'hsb1');
    const other = credentials.issue('gpc0').token;
    credentials.revokeHost('hsb1');
    assert.ok(tokens.every((token) => credentials.hostOf(token) === undefined));
    assert.equal(credentials.hostOf(other), 'gpc0');
    clock.advance(11 * 60_000);
    credentials.issue('gpc0');
    assert.equal(credentials.size, 1, 'expired credentials are dropped');
  });
});
