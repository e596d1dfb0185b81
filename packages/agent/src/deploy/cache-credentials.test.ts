import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitCacheCredentials } from './cache-credentials.js';

describe('splitCacheCredentials', () => {
  it('leaves a URL without credentials alone', () => {
    assert.deepEqual(splitCacheCredentials('https://cache.example/fleet'), {
      url: 'https://cache.example/fleet',
      netrc: null,
    });
  });

  it('moves decoded credentials into a netrc entry for the host', () => {
    const access = splitCacheCredentials('http://fleet:s3cr%25t@cache.example:8080/nix');
    assert.equal(access.url, 'http://cache.example:8080/nix');
    assert.equal(access.netrc, 'machine cache.example login fleet password s3cr%t\n');
  });

  it('refuses credentials netrc cannot hold, without repeating them', () => {
    assert.throws(
      () => splitCacheCredentials('https://fleet:two%20words@cache.example/'),
      (error: Error) => !error.message.includes('two words') && /netrc/.test(error.message),
    );
  });
});
