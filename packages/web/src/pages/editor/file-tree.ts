import type { EditorEntryType, EditorTreeEntry } from '@flotilla/protocol';

/** A directory or file of the tree the editor shows, with its children (directories first). */
export interface TreeNode {
  name: string;
  /** Relative to the repository root. */
  path: string;
  type: EditorEntryType;
  /** What the open draft does to this file, if anything. */
  change: 'added' | 'modified' | 'deleted' | null;
  children: TreeNode[];
}

/**
 * The flat listing of `editorTree` as nested nodes, directories before files, each level
 * sorted by name. Files a draft adds (not in the base commit's tree) are placed in it, with
 * the directories they need; `changes` marks what the draft does to each path.
 */
export function buildTree(
  entries: readonly Pick<EditorTreeEntry, 'path' | 'type'>[],
  changes: ReadonlyMap<string, 'added' | 'modified' | 'deleted'> = new Map(),
): TreeNode[] {
  const root: TreeNode = { name: '', path: '', type: 'directory', change: null, children: [] };
  const directories = new Map<string, TreeNode>([['', root]]);
  const directory = (path: string): TreeNode => {
    const found = directories.get(path);
    if (found !== undefined) return found;
    const cut = path.lastIndexOf('/');
    const parent = directory(cut < 0 ? '' : path.slice(0, cut));
    const node: TreeNode = {
      name: path.slice(cut + 1),
      path,
      type: 'directory',
      change: null,
      children: [],
    };
    parent.children.push(node);
    directories.set(path, node);
    return node;
  };
  const add = (path: string, type: EditorEntryType) => {
    if (type === 'directory') {
      directory(path);
      return;
    }
    const cut = path.lastIndexOf('/');
    directory(cut < 0 ? '' : path.slice(0, cut)).children.push({
      name: path.slice(cut + 1),
      path,
      type,
      change: changes.get(path) ?? null,
      children: [],
    });
  };
  const listed = new Set<string>();
  for (const entry of entries) {
    listed.add(entry.path);
    add(entry.path, entry.type);
  }
  for (const [path, change] of changes) {
    if (change === 'added' && !listed.has(path)) add(path, 'file');
  }
  sortTree(root);
  return root.children;
}

function sortTree(node: TreeNode): void {
  node.children.sort((a, b) => {
    const dirA = a.type === 'directory' ? 0 : 1;
    const dirB = b.type === 'directory' ? 0 : 1;
    return dirA - dirB || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
  for (const child of node.children) sortTree(child);
}

/** The directories that hold `path` (`a/b/c.nix` → `a`, `a/b`), to show it opened. */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'));
}
