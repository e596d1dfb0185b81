import type { EditorTree } from '@flotilla/protocol';
import { useMemo } from 'react';
import { ancestorsOf, buildTree, type TreeNode } from './file-tree.js';

const CHANGE_LABEL = { added: 'new', modified: 'changed', deleted: 'deleted' } as const;

/**
 * The repository's files as nested lists: directories are `<details>` (Enter or Space opens
 * them), files are buttons. The open file's directories start opened.
 */
export function FileTree(props: {
  tree: EditorTree;
  changes: ReadonlyMap<string, 'added' | 'modified' | 'deleted'>;
  openPath: string | null;
  onOpen: (path: string) => void;
}) {
  const nodes = useMemo(
    () => buildTree(props.tree.entries, props.changes),
    [props.tree, props.changes],
  );
  const opened = useMemo(
    () => new Set(props.openPath === null ? [] : ancestorsOf(props.openPath)),
    [props.openPath],
  );
  if (nodes.length === 0) return <p className="muted">The branch has no files.</p>;
  return (
    <>
      <ul className="file-tree" data-testid="file-tree">
        {nodes.map((node) => (
          <TreeItem key={node.path} node={node} opened={opened} {...props} />
        ))}
      </ul>
      {props.tree.truncated && (
        <p className="small muted">More files than can be listed at once; some are not shown.</p>
      )}
    </>
  );
}

function TreeItem(props: {
  node: TreeNode;
  opened: ReadonlySet<string>;
  openPath: string | null;
  onOpen: (path: string) => void;
}) {
  const { node } = props;
  if (node.type === 'directory') {
    return (
      <li>
        <details open={props.opened.has(node.path) || undefined}>
          <summary>{node.name}/</summary>
          <ul>
            {node.children.map((child) => (
              <TreeItem key={child.path} {...props} node={child} />
            ))}
          </ul>
        </details>
      </li>
    );
  }
  if (node.type !== 'file') {
    return (
      <li className="muted" title={`${node.type}: not editable here`}>
        {node.name} <span className="small">({node.type})</span>
      </li>
    );
  }
  const current = props.openPath === node.path;
  return (
    <li>
      <button
        type="button"
        className="tree-file"
        aria-current={current ? 'true' : undefined}
        data-path={node.path}
        onClick={() => props.onOpen(node.path)}
      >
        {node.name}
        {node.change && (
          <span className={`badge badge-${node.change === 'deleted' ? 'bad' : 'info'}`}>
            {CHANGE_LABEL[node.change]}
          </span>
        )}
      </button>
    </li>
  );
}
