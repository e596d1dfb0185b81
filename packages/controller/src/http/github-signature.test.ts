import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubSignature, verifyGithubSignature } from './github-signature.js';

describe('GitHub webhook signature', () => {
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');

  it('matches the example in GitHub documentation', () => {
    assert.equal(
      githubSignature(secret, body),
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('accepts the signature of the exact body', () => {
    assert.equal(verifyGithubSignature(secret, body, githubSignature(secret, body)), true);
  });

  it('refuses missing, malformed, truncated and foreign signatures', () => {
    const good = githubSignature(secret, body);
    assert.equal(verifyGithubSignature(secret, body, undefined), false);
    assert.equal(verifyGithubSignature(secret, body, ''), false);
    assert.equal(verifyGithubSignature(secret, body, good.replace('sha256=', 'sha1=')), false);
    assert.equal(verifyGithubSignature(secret, body, good.slice(0, -2)), false);
    assert.equal(verifyGithubSignature(secret, body, `${good}00`), false);
    assert.equal(verifyGithubSignature(secret, body, githubSignature('other', body)), false);
    assert.equal(verifyGithubSignature(secret, Buffer.from('Hello, World?'), good), false);
    assert.equal(verifyGithubSignature(secret, body, [good]), false);
  });
});
