import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactStoreUrl, scrubStoreUrlSecrets } from './store-url.js';

describe('redactStoreUrl', () => {
  it('masks the user info', () => {
    assert.equal(
      redactStoreUrl('https://fleet:s3cr%40t@cache.example/x'),
      'https://***@cache.example/x',
    );
    assert.equal(redactStoreUrl('https://tok3n@cache.example/'), 'https://***@cache.example/');
  });

  it('masks secret-looking query values and keeps the others', () => {
    assert.equal(
      redactStoreUrl('s3://bucket?region=eu-west-1&secret-key=/run/k&session-token=abc'),
      's3://bucket?region=eu-west-1&secret-key=***&session-token=***',
    );
  });

  it('leaves URLs without credentials and non-URLs alone', () => {
    assert.equal(redactStoreUrl('s3://bucket?region=eu-west-1'), 's3://bucket?region=eu-west-1');
    assert.equal(redactStoreUrl('ssh-ng://builder'), 'ssh-ng://builder');
    assert.equal(redactStoreUrl('/var/cache/nix'), '/var/cache/nix');
    assert.equal(redactStoreUrl('daemon'), 'daemon');
  });
});

describe('scrubStoreUrlSecrets', () => {
  it('masks the password wherever Nix repeated it, decoded or not', () => {
    const url = 'https://fleet:s3cr%40t@cache.example/x';
    const text = `error: unable to download 'https://fleet:s3cr%40t@cache.example/x/nix-cache-info' (s3cr@t)`;
    const scrubbed = scrubStoreUrlSecrets(text, url);
    assert.ok(!scrubbed.includes('s3cr'), scrubbed);
    assert.ok(scrubbed.includes('cache.example'));
  });

  it('masks a user name that is the only credential, and secret query values', () => {
    assert.equal(
      scrubStoreUrlSecrets('401 from https://tok3n@cache.example/', 'https://tok3n@cache.example/'),
      '401 from https://***@cache.example/',
    );
    assert.equal(
      scrubStoreUrlSecrets('bad token abc/def', 's3://b?token=abc%2Fdef'),
      'bad token ***',
    );
  });
});
