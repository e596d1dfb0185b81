import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentBaseUrl, agentOrigins } from './agent-base-url.js';

describe('agentBaseUrl', () => {
  it('uses the Host header as the agent sent it', () => {
    assert.equal(agentBaseUrl({ host: '127.0.0.1:8080' }), 'http://127.0.0.1:8080');
    assert.equal(agentBaseUrl({ host: 'Fleet.Example.org' }), 'http://fleet.example.org');
    assert.equal(agentBaseUrl({ host: '[::1]:8080' }), 'http://[::1]:8080');
  });

  it('switches to https behind a TLS-terminating proxy', () => {
    assert.equal(
      agentBaseUrl({ host: 'fleet.example.org', 'x-forwarded-proto': 'https' }),
      'https://fleet.example.org',
    );
    assert.equal(
      agentBaseUrl({ host: 'fleet.example.org', 'x-forwarded-proto': 'HTTPS, http' }),
      'https://fleet.example.org',
    );
    assert.equal(
      agentBaseUrl({ host: 'fleet.example.org', 'x-forwarded-proto': 'gopher' }),
      'http://fleet.example.org',
    );
  });

  it('gives null for a missing or malformed Host', () => {
    assert.equal(agentBaseUrl({}), null);
    assert.equal(agentBaseUrl({ host: '' }), null);
    assert.equal(agentBaseUrl({ host: 'evil.example/path' }), null);
    assert.equal(agentBaseUrl({ host: 'user@evil.example' }), null);
    assert.equal(agentBaseUrl({ host: 'a b' }), null);
  });
});

describe('agentOrigins', () => {
  it('gives the Host header, the scheme its headers suggest first, and the public URL', () => {
    assert.deepEqual(agentOrigins({ host: '127.0.0.1:8080' }, undefined), [
      'http://127.0.0.1:8080',
      'https://127.0.0.1:8080',
    ]);
    assert.deepEqual(agentOrigins({ host: 'ctl.internal:8080' }, 'https://fleet.example.org/'), [
      'http://ctl.internal:8080',
      'https://ctl.internal:8080',
      'https://fleet.example.org',
    ]);
    assert.deepEqual(
      agentOrigins(
        { host: 'fleet.example.org', 'x-forwarded-proto': 'https' },
        'https://fleet.example.org',
      ),
      ['https://fleet.example.org', 'http://fleet.example.org'],
    );
    assert.deepEqual(agentOrigins({}, undefined), []);
  });
});
