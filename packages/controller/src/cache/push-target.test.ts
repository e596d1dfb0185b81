import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { pushTarget, withPushEnvironment } from './push-target.js';

describe('pushTarget', () => {
  it('takes the user info out of the store URL, decoded', () => {
    assert.deepEqual(pushTarget('https://fleet:s3cr%40t@cache.example/x?compression=zstd'), {
      storeUrl: 'https://cache.example/x?compression=zstd',
      login: { machine: 'cache.example', login: 'fleet', password: 's3cr@t' },
    });
    assert.deepEqual(pushTarget('https://tok3n@cache.example/').login, {
      machine: 'cache.example',
      login: 'tok3n',
      password: '',
    });
  });

  it('leaves URLs without user info alone', () => {
    assert.deepEqual(pushTarget('s3://bucket?region=eu-west-1&profile=fleet'), {
      storeUrl: 's3://bucket?region=eu-west-1&profile=fleet',
    });
    assert.deepEqual(pushTarget('daemon'), { storeUrl: 'daemon' });
  });

  it('refuses credentials a netrc file cannot carry', () => {
    assert.throws(() => pushTarget('https://fleet:a%20b@cache.example/'), /whitespace/);
  });
});

describe('withPushEnvironment', () => {
  it('hands Nix the URL and a 0600 netrc file through NIX_CONFIG, and removes the file', async () => {
    let netrc = '';
    const env = await withPushEnvironment(
      pushTarget('https://fleet:pw@cache.example/'),
      { PATH: '/bin', NIX_CONFIG: 'sandbox = true' },
      async (childEnv) => {
        netrc = /netrc-file = (.*)/.exec(childEnv.NIX_CONFIG ?? '')?.[1] ?? '';
        assert.equal(statSync(netrc).mode & 0o777, 0o600);
        assert.equal(statSync(dirname(netrc)).mode & 0o777, 0o700);
        assert.equal(
          readFileSync(netrc, 'utf8'),
          'machine cache.example login fleet password pw\n',
        );
        return childEnv;
      },
    );
    assert.equal(
      env.NIX_CONFIG,
      `sandbox = true\nstore = https://cache.example/\nnetrc-file = ${netrc}`,
    );
    assert.equal(env.PATH, '/bin');
    assert.equal(existsSync(netrc), false);
  });
});
