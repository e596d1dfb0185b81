import { DraftConflict, type CommitDraftResult, type Draft } from '@flotilla/protocol';
import { useState } from 'react';
import { ApiError } from '../../api/api-error.js';
import { useApi } from '../../api/api-context.js';
import { ActionError } from '../../components/ActionError.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { Time } from '../../components/Time.js';
import { CheckView, ConflictView, type OpenAt } from './CheckView.js';
import { saveDraftMessage, useRefreshDrafts } from './editor.queries.js';

type Busy = 'check' | 'commit' | 'rebase' | 'revert' | 'discard' | null;

export interface DraftPanelProps {
  draft: Draft;
  /** The branch head the controller knows; a draft made on another commit can be rebased. */
  headCommit: string | null;
  /** Saves the open file's edits before the draft is checked, committed or moved. */
  flushAll: () => Promise<void>;
  onOpen: (path: string) => void;
  openAt: OpenAt;
  /** The draft's files changed under the open editor (rebase, revert): open them afresh. */
  onReload: () => void;
  onCommitted: (result: CommitDraftResult) => void;
  onDiscarded: () => void;
}

/**
 * The open draft: its changed files, its check (which hosts rebuild, errors with file:line),
 * the commit message and the commit; a conflict with a moved branch, and discarding it.
 * Every outcome is also kept on the draft (its last check), so it is there after a reload.
 */
export function DraftPanel(props: DraftPanelProps) {
  const api = useApi();
  const refresh = useRefreshDrafts();
  const { draft } = props;
  const [message, setMessage] = useState(draft.message);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<DraftConflict | null>(null);
  const [discarding, setDiscarding] = useState(false);

  /** Runs one action: the open file saved first, then `work` on the draft as it is now. */
  const run = async (kind: Busy, work: (fresh: Draft) => Promise<void>) => {
    setBusy(kind);
    setError(null);
    try {
      await props.flushAll();
      await work(await saveDraftMessage(api, draft.id, message));
    } catch (caught) {
      setError(caught);
      if (caught instanceof ApiError && caught.code === 'draft_conflict') {
        const parsed = DraftConflict.safeParse(caught.details);
        if (parsed.success) setConflict(parsed.data);
      }
    } finally {
      setBusy(null);
      await refresh();
    }
  };
  const check = () =>
    run('check', async (fresh) => {
      setConflict(null);
      await api.call('checkDraft', {
        params: { id: draft.id },
        body: { revision: fresh.revision },
      });
    });
  const commit = () =>
    run('commit', async (fresh) => {
      setConflict(null);
      const result = await api.call('commitDraft', {
        params: { id: draft.id },
        body: { revision: fresh.revision, message: message.trim() },
      });
      props.onCommitted(result);
    });
  const rebase = (resolutions: { path: string; content: string | null }[]) =>
    run('rebase', async (fresh) => {
      await api.call('rebaseDraft', {
        params: { id: draft.id },
        body: { revision: fresh.revision, resolutions },
      });
      setConflict(null);
      props.onReload();
    });
  const revert = (path: string) =>
    run('revert', async () => {
      await api.call('saveDraftFile', { params: { id: draft.id }, body: { op: 'revert', path } });
      props.onReload();
    });

  const last = draft.lastCheck;
  const stale = last !== null && last.draftRevision !== draft.revision;
  // A conflict found by a commit or check stays on the draft until it changes.
  const shownConflict = conflict ?? (last !== null && !stale ? last.conflict : null);
  const moved = props.headCommit !== null && props.headCommit !== draft.baseCommit;
  return (
    <section className="card draft-panel" aria-labelledby="draft-title" data-testid="draft-panel">
      <h2 id="draft-title">Draft</h2>
      <p className="small muted">
        On <code>{draft.branch}</code> at <code>{draft.baseCommit.slice(0, 10)}</code>, saved{' '}
        <Time iso={draft.updatedAt} /> (revision {draft.revision})
        {draft.status === 'pushing' && ' — being committed'}
      </p>
      {draft.changes.length === 0 ? (
        <p className="muted">No changes yet: edit a file and it is saved here.</p>
      ) : (
        <ul className="draft-changes" aria-label="Changed files">
          {draft.changes.map((change) => (
            <li key={change.path}>
              <button
                type="button"
                className="link-button mono"
                onClick={() => props.onOpen(change.path)}
              >
                {change.path}
              </button>{' '}
              <span className={`badge badge-${change.kind === 'deleted' ? 'bad' : 'info'}`}>
                {change.kind}
              </span>{' '}
              <button
                type="button"
                className="small-button"
                disabled={busy !== null}
                onClick={() => void revert(change.path)}
                aria-label={`Undo the changes to ${change.path}`}
              >
                Undo
              </button>
            </li>
          ))}
        </ul>
      )}

      {shownConflict ? (
        <ConflictView
          key={`${shownConflict.headCommit}:${draft.revision}`}
          conflict={shownConflict}
          busy={busy !== null}
          onResolve={(resolutions) => void rebase(resolutions)}
        />
      ) : (
        last && <CheckView check={last} stale={stale} openAt={props.openAt} />
      )}

      <form
        className="commit-form"
        onSubmit={(event) => {
          event.preventDefault();
          void commit();
        }}
      >
        <label>
          Commit message
          <textarea
            value={message}
            rows={3}
            required
            onChange={(e) => setMessage(e.target.value)}
            onBlur={() => {
              // Kept with the draft in the background; the buttons stay usable meanwhile
              // (the blur of a click on Commit must not disable it under the pointer).
              if (message === draft.message || busy !== null) return;
              saveDraftMessage(api, draft.id, message).catch((caught: unknown) => setError(caught));
            }}
          />
        </label>
        <div className="actions">
          <button
            type="button"
            onClick={() => void check()}
            disabled={busy !== null || draft.changes.length === 0}
          >
            {busy === 'check' ? 'Checking…' : 'Check'}
          </button>
          <button
            type="submit"
            className="primary"
            disabled={busy !== null || draft.changes.length === 0 || message.trim() === ''}
          >
            {busy === 'commit' ? 'Committing…' : 'Commit and push'}
          </button>
          {moved && (
            <button type="button" onClick={() => void rebase([])} disabled={busy !== null}>
              Rebase onto the branch head
            </button>
          )}
          <button
            type="button"
            className="danger"
            onClick={() => setDiscarding(true)}
            disabled={busy !== null}
          >
            Discard draft…
          </button>
        </div>
        <p className="small muted">
          Check evaluates every host with the draft applied to the branch head; nothing is pushed.
          Commit checks again, commits as you and pushes; when the branch moved, the draft is merged
          onto it if that is clean.
        </p>
      </form>
      <ActionError error={error} />
      {discarding && (
        <ConfirmDialog
          title="Discard this draft"
          confirmLabel="Discard"
          danger
          busy={busy === 'discard'}
          onCancel={() => setDiscarding(false)}
          onConfirm={() => {
            setBusy('discard');
            api
              .call('discardDraft', { params: { id: draft.id } })
              .then(() => {
                setDiscarding(false);
                props.onDiscarded();
              })
              .catch((caught: unknown) => {
                setDiscarding(false);
                setError(caught);
              })
              .finally(() => {
                setBusy(null);
                void refresh();
              });
          }}
        >
          <p>
            Its changes to {draft.changes.length} file(s) are thrown away. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
