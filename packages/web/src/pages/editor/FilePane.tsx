import type { Draft } from '@flotilla/protocol';
import { lazy, Suspense, useEffect, useState } from 'react';
import { messageOf } from '../../api/api-error.js';
import { useApi } from '../../api/api-context.js';
import { ActionError } from '../../components/ActionError.js';
import { Empty, ErrorState, Loading } from '../../components/states.js';
import { useDraftFileSaver, type SaveStatus } from './draft-file-saver.js';
import { useEditorFile } from './editor.queries.js';

/** CodeMirror and the Nix grammar: their own chunk, loaded with the first file opened. */
const CodeEditor = lazy(() => import('./CodeEditor.js').then((m) => ({ default: m.CodeEditor })));

export interface FilePaneProps {
  path: string;
  /** The commit the file is read at: the open draft's base, or the branch head. */
  baseCommit: string;
  draft: Draft | null;
  /** The open draft's id, making one on the commit given when there is none yet. */
  ensureDraft: (baseCommit: string) => Promise<string>;
  /** The pane's "save now", for the page to call before it checks, commits or leaves. */
  registerFlush: (flush: (() => Promise<void>) | null) => void;
  /** A line to start on (from an error's file:line). */
  line?: number;
  onSaved: () => Promise<void>;
}

/** One file: loaded at the draft's base (or with the draft's text), edited, saved into the draft. */
export function FilePane(props: FilePaneProps) {
  const base = useEditorFile(props.baseCommit, props.path);
  const change = props.draft?.changes.find((c) => c.path === props.path);
  if (base.isPending) return <Loading label={`Opening ${props.path}`} />;
  if (base.isError) return <ErrorState error={base.error} retry={() => void base.refetch()} />;
  if (base.data === null && change === undefined) {
    return (
      <Empty title={`${props.path} is not in this commit.`}>
        <p>Choose another file from the tree.</p>
      </Empty>
    );
  }
  if (change?.kind === 'deleted') return <DeletedFile {...props} />;
  const original = base.data?.content ?? '';
  return <OpenFile {...props} initial={{ text: change?.content ?? original, original }} />;
}

/**
 * The editor of one file. What it starts with is taken once: from then on the editor holds
 * the text, and the draft's refetches (after each save) do not reset it.
 */
function OpenFile(props: FilePaneProps & { initial: { text: string; original: string } }) {
  const api = useApi();
  const { path, ensureDraft, onSaved, registerFlush } = props;
  const [opened] = useState(props.initial);
  // A draft made by the first save starts on the commit this text was read from.
  const [openedAt] = useState(props.baseCommit);
  const saver = useDraftFileSaver({
    savedText: opened.text,
    write: async (content) => {
      const id = await ensureDraft(openedAt);
      await api.call('saveDraftFile', { params: { id }, body: { op: 'write', path, content } });
      await onSaved();
    },
  });
  const { flush } = saver;
  useEffect(() => {
    registerFlush(flush);
    return () => registerFlush(null);
  }, [flush, registerFlush]);
  const [showDiff, setShowDiff] = useState(props.draft !== null && opened.text !== opened.original);
  const pushing = props.draft?.status === 'pushing';
  return (
    <section className="card file-pane" aria-labelledby="file-title">
      <div className="file-head">
        <h2 id="file-title" className="mono break">
          {path}
        </h2>
        <SaveState status={saver.status} draftOpen={props.draft !== null} />
        <label className="inline">
          <input
            type="checkbox"
            checked={showDiff}
            onChange={(e) => setShowDiff(e.target.checked)}
          />{' '}
          Show changes
        </label>
        <button
          type="button"
          onClick={() => void flush().catch(() => undefined)}
          disabled={saver.status.kind === 'saved' || saver.status.kind === 'saving'}
        >
          Save
        </button>
      </div>
      {pushing && (
        <p className="callout callout-warn">The draft is being committed: editing waits.</p>
      )}
      <Suspense fallback={<Loading label="Loading the editor" />}>
        <CodeEditor
          initialDoc={opened.text}
          original={opened.original}
          showDiff={showDiff}
          language={path.endsWith('.nix') ? 'nix' : 'plain'}
          label={`Contents of ${path}`}
          readOnly={pushing}
          line={props.line}
          onChange={saver.edit}
          onSave={() => void flush().catch(() => undefined)}
        />
      </Suspense>
      <p className="small muted">
        Changes are saved into your draft as you type (Ctrl-S saves now). Tab indents; Escape then
        Tab leaves the editor.
      </p>
    </section>
  );
}

function SaveState({ status, draftOpen }: { status: SaveStatus; draftOpen: boolean }) {
  const text = {
    saved: draftOpen ? 'Saved in the draft' : 'No changes',
    unsaved: 'Unsaved changes',
    saving: 'Saving…',
    failed: 'Not saved',
  }[status.kind];
  return (
    <span
      className={`save-state save-${status.kind}`}
      role="status"
      data-testid="save-state"
      data-state={status.kind}
    >
      {text}
      {status.kind === 'failed' && `: ${messageOf(status.error)}`}
    </span>
  );
}

/** A file the draft deletes: nothing to edit, but it can be brought back. */
function DeletedFile(props: FilePaneProps) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  const restore = async () => {
    try {
      const id = await props.ensureDraft(props.baseCommit);
      await api.call('saveDraftFile', { params: { id }, body: { op: 'revert', path: props.path } });
      await props.onSaved();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section className="card file-pane" aria-labelledby="file-title">
      <h2 id="file-title" className="mono break">
        {props.path}
      </h2>
      <p className="callout callout-warn">This draft deletes the file.</p>
      <button type="button" onClick={() => void restore()}>
        Keep the file
      </button>
      <ActionError error={error} />
    </section>
  );
}
