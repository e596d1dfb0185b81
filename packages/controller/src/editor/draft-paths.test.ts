import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addedPathProblem, authorOf } from './draft-paths.js';

const tree = {
  files: new Set(['flake.nix', 'hosts/a.nix', 'README']),
  dirs: new Set(['hosts']),
};
const none = { deleted: new Set<string>(), added: new Set<string>() };

describe('addedPathProblem', () => {
  it('lets a new file go anywhere free', () => {
    assert.equal(addedPathProblem('hosts/b.nix', tree, none), undefined);
    assert.equal(addedPathProblem('modules/new/x.nix', tree, none), undefined);
  });

  it('refuses a file in place of a directory, or below a file', () => {
    assert.match(addedPathProblem('hosts', tree, none) ?? '', /hosts is a directory/);
    assert.match(addedPathProblem('README/x', tree, none) ?? '', /README is a file/);
  });

  it('lets a file go below a file the draft deletes', () => {
    const draft = { deleted: new Set(['README']), added: new Set<string>() };
    assert.equal(addedPathProblem('README/x', tree, draft), undefined);
  });

  it('refuses a file and a directory of the same name among the draft’s own new files', () => {
    assert.match(
      addedPathProblem('docs/a', tree, { deleted: new Set(), added: new Set(['docs']) }) ?? '',
      /adds docs as a file/,
    );
    assert.match(
      addedPathProblem('docs', tree, { deleted: new Set(), added: new Set(['docs/a']) }) ?? '',
      /adds docs\/a below it/,
    );
  });
});

describe('authorOf', () => {
  it('authors as the user, with an address that never delivers', () => {
    assert.deepEqual(authorOf('markus'), { name: 'markus', email: 'markus@flotilla.invalid' });
  });
});
