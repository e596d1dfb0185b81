import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controllerHttpOrigin } from '../controller-origin.js';
import { checkCacheUrl, netrcEntry } from './cache-credentials.js';

describe('checkCacheUrl', () => {
  const controller = 'ws://ctl.example:8080/api/v1/agent/ws';

  it("accepts the controller's own cache", () => {
    assert.equal(
      checkCacheUrl('http://ctl.example:8080/cache', controller),
      'http://ctl.example:8080/cache',
    );
  });

  it('maps wss to https and ignores default ports when comparing origins', () => {
    const secure = 'wss://ctl.example/api/v1/agent/ws';
    assert.equal(
      checkCacheUrl('https://ctl.example:443/cache', secure),
      'https://ctl.example/cache',
    );
    assert.throws(() => checkCacheUrl('http://ctl.example/cache', secure), /not on the controller/);
  });

  it('refuses another host, port or scheme, and credentials in the URL', () => {
    for (const url of [
      'http://cache.example:8080/cache',
      'http://ctl.example:8081/cache',
      'https://ctl.example:8080/cache',
      'http://ctl.example.evil.test:8080/cache',
    ]) {
      assert.throws(
        () => checkCacheUrl(url, controller),
        /the agent fetches only from its controller/,
        url,
      );
    }
    assert.throws(
      () => checkCacheUrl('http://u:secret@ctl.example:8080/cache', controller),
      (error: Error) =>
        /carries credentials/.test(error.message) && !error.message.includes('secret'),
    );
    assert.throws(() => checkCacheUrl('not a url', controller), /not a URL/);
  });

  it('derives the controller origin from its WebSocket URL', () => {
    assert.equal(
      controllerHttpOrigin('ws://127.0.0.1:9000/api/v1/agent/ws'),
      'http://127.0.0.1:9000',
    );
    assert.equal(controllerHttpOrigin('wss://Fleet.Example:443/x'), 'https://fleet.example');
  });
});

describe('netrcEntry', () => {
  it("gives the credential to the cache's host only, under a fixed login", () => {
    assert.equal(
      netrcEntry('https://ctl.example:8443/cache', 'fltc_abc'),
      'machine ctl.example login flotilla password fltc_abc\n',
    );
  });

  it('refuses what netrc cannot hold, without repeating it', () => {
    assert.throws(
      () => netrcEntry('https://ctl.example/cache', 'two words'),
      (error: Error) => !error.message.includes('two words') && /netrc/.test(error.message),
    );
  });
});
