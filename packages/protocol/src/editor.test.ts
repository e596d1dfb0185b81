import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CommitDraftRequest,
  EditorTreeQuery,
  repoPathProblem,
  SaveDraftFileRequest,
  SaveDraftRequest,
} from './editor.js';

describe('repoPathProblem', () => {
  it('accepts paths relative to the repository root', () => {
    for (const path of [
      'flake.nix',
      'hosts/gpc0.nix',
      '-leading-dash.nix',
      'a b/ü.nix',
      '.github/x',
    ]) {
      assert.equal(repoPathProblem(path), undefined, path);
    }
  });

  it('refuses absolute paths, dot segments, .git, control characters and empty segments', () => {
    const refused: Record<string, RegExp> = {
      '': /empty/,
      '/etc/passwd': /relative/,
      '../outside': /"\.\."/,
      'hosts/../../x': /"\.\."/,
      './flake.nix': /"\."/,
      'hosts//a.nix': /empty segments/,
      'hosts/': /trailing slash/,
      '.git/config': /\.git/,
      'sub/.GIT/hooks/pre-push': /\.git/,
      'nul\0byte': /control/,
      'line\nbreak': /control/,
      'tab\there': /control/,
      [`${'a/'.repeat(600)}x`]: /at most 1024/,
    };
    for (const [path, reason] of Object.entries(refused)) {
      assert.match(repoPathProblem(path) ?? '', reason, JSON.stringify(path.slice(0, 40)));
    }
  });
});

describe('editor bodies', () => {
  it('lists the root recursively by default and refuses a path outside the repository', () => {
    assert.deepEqual(EditorTreeQuery.parse({}), { path: '', recursive: 'true' });
    assert.equal(EditorTreeQuery.safeParse({ path: '../x' }).success, false);
    assert.equal(EditorTreeQuery.safeParse({ commit: 'HEAD' }).success, false);
  });

  it('takes one file change as write, delete or revert, and nothing else', () => {
    assert.deepEqual(SaveDraftFileRequest.parse({ op: 'write', path: 'a.nix', content: 'x' }), {
      op: 'write',
      path: 'a.nix',
      content: 'x',
    });
    assert.equal(SaveDraftFileRequest.safeParse({ op: 'delete', path: 'a.nix' }).success, true);
    assert.equal(
      SaveDraftFileRequest.safeParse({ op: 'revert', path: 'a.nix', revision: 3 }).success,
      true,
    );
    assert.equal(SaveDraftFileRequest.safeParse({ op: 'write', path: 'a.nix' }).success, false);
    assert.equal(SaveDraftFileRequest.safeParse({ op: 'move', path: 'a.nix' }).success, false);
    assert.equal(
      SaveDraftFileRequest.safeParse({ op: 'delete', path: '/etc/hosts' }).success,
      false,
    );
  });

  it('replaces a whole draft only with known operations, and commits only a revision seen', () => {
    const save = SaveDraftRequest.safeParse({
      message: 'fix',
      changes: [{ op: 'revert', path: 'a.nix' }],
    });
    assert.equal(save.success, false, 'revert is a per-file operation');
    assert.equal(CommitDraftRequest.safeParse({ message: 'x' }).success, false);
    assert.equal(CommitDraftRequest.safeParse({ revision: 2 }).success, true);
  });
});
