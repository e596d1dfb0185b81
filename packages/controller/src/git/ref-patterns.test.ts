import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { branchRefspec, refMatches, refMatchesAny, refspecsFor } from './ref-patterns.js';

describe('ref patterns', () => {
  it('matches `*` against one or more characters, slashes included', () => {
    assert.equal(refMatches('refs/pull/*/head', 'refs/pull/7/head'), true);
    assert.equal(refMatches('refs/pull/*/head', 'refs/pull/123/head'), true);
    assert.equal(refMatches('refs/pull/*/head', 'refs/pull/7/merge'), false);
    assert.equal(refMatches('refs/pull/*/head', 'refs/pull//head'), false);
    assert.equal(refMatches('refs/heads/preview/*', 'refs/heads/preview/a/b'), true);
    assert.equal(refMatches('refs/heads/preview/*', 'refs/heads/preview/'), false);
  });

  it('treats everything but `*` literally', () => {
    assert.equal(refMatches('refs/heads/v1.0', 'refs/heads/v1x0'), false);
    assert.equal(refMatches('refs/heads/a+b', 'refs/heads/a+b'), true);
    assert.equal(refMatches('refs/heads/main', 'refs/heads/main2'), false);
  });

  it('matches any of several patterns', () => {
    const patterns = ['refs/pull/*/head', 'refs/heads/staging'];
    assert.equal(refMatchesAny(patterns, 'refs/heads/staging'), true);
    assert.equal(refMatchesAny(patterns, 'refs/heads/main'), false);
    assert.equal(refMatchesAny([], 'refs/heads/main'), false);
  });

  it('derives forced fetch refspecs that never fail on a missing ref', () => {
    assert.deepEqual(refspecsFor(['refs/pull/*/head']), ['+refs/pull/*/head:refs/pull/*/head']);
    assert.deepEqual(refspecsFor(['refs/heads/staging']), [
      '+refs/heads/staging*:refs/heads/staging*',
    ]);
    assert.deepEqual(refspecsFor(['refs/a/*/b/*', 'refs/a/*/c/*']), ['+refs/a/*:refs/a/*']);
    assert.equal(branchRefspec('main'), '+refs/heads/main:refs/heads/main');
  });
});
