import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  controllerHttpOrigin,
  resolveCacheAccess,
  splitCacheCredentials,
} from './cache-credentials.js';

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

describe('resolveCacheAccess', () => {
  const host = { controllerUrl: 'ws://ctl.example:8080/api/v1/agent/ws', token: 'flta_secret' };

  it('sends the host token to the controller own cache, as a netrc entry', () => {
    const access = resolveCacheAccess('http://ctl.example:8080/cache', host);
    assert.equal(access.url, 'http://ctl.example:8080/cache');
    assert.equal(access.netrc, 'machine ctl.example login flotilla password flta_secret\n');
    assert.equal(access.usesHostToken, true);
  });

  it('maps wss to https and ignores default ports when comparing origins', () => {
    const secure = { ...host, controllerUrl: 'wss://ctl.example/api/v1/agent/ws' };
    assert.equal(resolveCacheAccess('https://ctl.example:443/cache', secure).usesHostToken, true);
    assert.equal(resolveCacheAccess('http://ctl.example/cache', secure).usesHostToken, false);
  });

  it('never sends the token to another host, port or scheme', () => {
    for (const url of [
      'http://cache.example:8080/cache',
      'http://ctl.example:8081/cache',
      'https://ctl.example:8080/cache',
      'http://ctl.example.evil.test:8080/cache',
    ]) {
      const access = resolveCacheAccess(url, host);
      assert.equal(access.netrc, null, url);
      assert.equal(access.usesHostToken, false, url);
    }
  });

  it('uses credentials given in the URL instead of the token', () => {
    const access = resolveCacheAccess('http://u:pw@ctl.example:8080/cache', host);
    assert.equal(access.netrc, 'machine ctl.example login u password pw\n');
    assert.equal(access.usesHostToken, false);
  });

  it('derives the controller origin from its WebSocket URL', () => {
    assert.equal(
      controllerHttpOrigin('ws://127.0.0.1:9000/api/v1/agent/ws'),
      'http://127.0.0.1:9000',
    );
    assert.equal(controllerHttpOrigin('wss://Fleet.Example:443/x'), 'https://fleet.example');
  });
});
