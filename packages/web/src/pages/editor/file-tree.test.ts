import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ancestorsOf, buildTree, type TreeNode } from './file-tree.js';

/** A tree as nested `[name, change?, children?]` lists, easy to compare. */
const shape = (nodes: TreeNode[]): unknown[] =>
  nodes.map((n) =>
    n.type === 'directory' ? [n.name, shape(n.children)] : n.change ? [n.name, n.change] : n.name,
  );

describe('the editor file tree', () => {
  it('nests the flat listing, directories first, each level sorted by name', () => {
    const tree = buildTree([
      { path: 'README.md', type: 'file' },
      { path: 'flake.nix', type: 'file' },
      { path: 'hosts', type: 'directory' },
      { path: 'hosts/web2.nix', type: 'file' },
      { path: 'hosts/web1.nix', type: 'file' },
      { path: 'modules', type: 'directory' },
    ]);
    assert.deepEqual(shape(tree), [
      ['hosts', ['web1.nix', 'web2.nix']],
      ['modules', []],
      'README.md',
      'flake.nix',
    ]);
  });

  it("marks a draft's changes and places the files it adds, with their directories", () => {
    const tree = buildTree(
      [
        { path: 'flake.nix', type: 'file' },
        { path: 'hosts', type: 'directory' },
        { path: 'hosts/web1.nix', type: 'file' },
      ],
      new Map([
        ['hosts/web1.nix', 'modified'],
        ['docs/new/notes.md', 'added'],
      ] as const),
    );
    assert.deepEqual(shape(tree), [
      ['docs', [['new', [['notes.md', 'added']]]]],
      ['hosts', [['web1.nix', 'modified']]],
      'flake.nix',
    ]);
    assert.equal(tree[0]?.children[0]?.path, 'docs/new');
  });

  it('names the directories that hold a path', () => {
    assert.deepEqual(ancestorsOf('a/b/c.nix'), ['a', 'a/b']);
    assert.deepEqual(ancestorsOf('flake.nix'), []);
  });
});
