import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact, redactUrlCredentials, urlHasPassword } from './redact.js';

describe('redact', () => {
  it('removes user and password from URLs, wherever they are in the text', () => {
    assert.equal(
      redactUrlCredentials(
        "fatal: unable to access 'https://x-access-token:ghp_abc@github.com/o/r.git/'",
      ),
      "fatal: unable to access 'https://***@github.com/o/r.git/'",
    );
    assert.equal(
      redactUrlCredentials('https://ghp_tokenonly@github.com/o/r'),
      'https://***@github.com/o/r',
    );
  });

  it('keeps a plain ssh user name, which is no secret', () => {
    assert.equal(
      redactUrlCredentials('ssh://git@github.com/o/r.git'),
      'ssh://git@github.com/o/r.git',
    );
    assert.equal(
      redactUrlCredentials('ssh://git:pw@github.com/o/r.git'),
      'ssh://***@github.com/o/r.git',
    );
    assert.equal(redactUrlCredentials('git@github.com:o/r.git'), 'git@github.com:o/r.git');
  });

  it('leaves URLs without credentials alone', () => {
    const text = 'fetching https://github.com/o/r.git and file:///tmp/x.git';
    assert.equal(redactUrlCredentials(text), text);
  });

  it('removes given secrets, also percent-encoded, and ignores tiny ones', () => {
    const token = 'gh/p+secret value';
    const text = `token ${token} and ${encodeURIComponent(token)} and ab`;
    assert.equal(redact(text, [token, 'ab', undefined]), 'token *** and *** and ab');
  });

  it('tells URLs with a password apart', () => {
    assert.equal(urlHasPassword('https://user:pw@github.com/o/r'), true);
    assert.equal(urlHasPassword('https://github.com:443/o/r'), false);
    assert.equal(urlHasPassword('ssh://git@github.com:22/o/r'), false);
    assert.equal(urlHasPassword('/srv/git/flake.git'), false);
  });
});
