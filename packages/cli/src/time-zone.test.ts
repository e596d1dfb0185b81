import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from './errors.js';
import { canonicalTimeZone, resolveTimeZone } from './time-zone.js';

describe('canonicalTimeZone', () => {
  it('knows IANA names, in any case and after a colon, and reads the UTC aliases as UTC', () => {
    assert.equal(canonicalTimeZone('Europe/Vienna'), 'Europe/Vienna');
    assert.equal(canonicalTimeZone('europe/vienna'), 'Europe/Vienna');
    assert.equal(canonicalTimeZone(':Europe/Vienna'), 'Europe/Vienna');
    assert.equal(canonicalTimeZone('Etc/UTC'), 'UTC');
    assert.equal(canonicalTimeZone('UTC'), 'UTC');
  });

  it('rejects what Intl does not know', () => {
    assert.equal(canonicalTimeZone('CET-1CEST,M3.5.0,M10.5.0/3'), undefined);
    assert.equal(canonicalTimeZone('Mars/Olympus'), undefined);
    assert.equal(canonicalTimeZone(''), undefined);
  });
});

describe('resolveTimeZone', () => {
  const off = { utc: false };

  it('takes --utc over FLOTILLA_UTC over TZ over the system zone', () => {
    const env = { TZ: 'Europe/Vienna' };
    assert.equal(resolveTimeZone({ utc: true }, env, 'Asia/Tokyo'), 'UTC');
    assert.equal(resolveTimeZone(off, { ...env, FLOTILLA_UTC: '1' }, 'Asia/Tokyo'), 'UTC');
    assert.equal(resolveTimeZone(off, { ...env, FLOTILLA_UTC: 'yes' }, 'Asia/Tokyo'), 'UTC');
    assert.equal(
      resolveTimeZone(off, { ...env, FLOTILLA_UTC: '0' }, 'Asia/Tokyo'),
      'Europe/Vienna',
    );
    assert.equal(resolveTimeZone(off, { ...env, FLOTILLA_UTC: '' }, 'Asia/Tokyo'), 'Europe/Vienna');
    assert.equal(resolveTimeZone(off, {}, 'Asia/Tokyo'), 'Asia/Tokyo');
  });

  it('falls back to the system zone for a TZ Intl cannot name, and to UTC after that', () => {
    assert.equal(resolveTimeZone(off, { TZ: 'CET-1CEST' }, 'Europe/Berlin'), 'Europe/Berlin');
    assert.equal(resolveTimeZone(off, { TZ: 'nowhere' }, 'nowhere either'), 'UTC');
  });

  it('refuses a FLOTILLA_UTC that is neither on nor off', () => {
    assert.throws(
      () => resolveTimeZone(off, { FLOTILLA_UTC: 'maybe' }, 'UTC'),
      (error: unknown) => error instanceof CliError && error.code === 'invalid_setting',
    );
  });
});
