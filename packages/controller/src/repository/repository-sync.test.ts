import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { touchesWatchedPath } from './repository-sync.js';

describe('touchesWatchedPath', () => {
  it('matches files and directories from the repository root', () => {
    assert.equal(touchesWatchedPath(['flake.lock'], ['flake.lock'], ''), true);
    assert.equal(touchesWatchedPath(['README.md'], ['flake.lock'], ''), false);
    assert.equal(touchesWatchedPath(['hosts/a/default.nix'], ['hosts'], ''), true);
    assert.equal(touchesWatchedPath(['hosts/a/default.nix'], ['hosts/'], ''), true);
    assert.equal(touchesWatchedPath(['hostsx/a.nix'], ['hosts'], ''), false);
  });

  it('also reads watched paths relative to the flake directory', () => {
    assert.equal(touchesWatchedPath(['nix/flake.lock'], ['flake.lock'], 'nix'), true);
    assert.equal(touchesWatchedPath(['flake.lock'], ['flake.lock'], 'nix/'), true);
    assert.equal(touchesWatchedPath(['other/flake.lock'], ['flake.lock'], 'nix'), false);
  });
});
