import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commitLink } from './commit-link.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('a link to a commit', () => {
  it('links commits of GitHub repositories, however the URL is spelled', () => {
    const page = `https://github.com/acme/fleet/commit/${SHA}`;
    assert.equal(commitLink('https://github.com/acme/fleet', SHA), page);
    assert.equal(commitLink('https://github.com/acme/fleet.git', SHA), page);
    assert.equal(commitLink('git@github.com:acme/fleet.git', SHA), page);
    assert.equal(commitLink('ssh://git@github.com/acme/fleet.git', SHA), page);
  });

  it('links nothing it cannot be sure of', () => {
    assert.equal(commitLink('https://gitlab.com/acme/fleet', SHA), null);
    assert.equal(commitLink('https://github.com.evil.example/acme/fleet', SHA), null);
    assert.equal(commitLink('/srv/git/fleet.git', SHA), null);
    assert.equal(commitLink('https://github.com/acme/fleet', null), null);
    assert.equal(commitLink('https://github.com/acme/fleet', 'not a sha'), null);
    assert.equal(commitLink(null, SHA), null);
  });
});
