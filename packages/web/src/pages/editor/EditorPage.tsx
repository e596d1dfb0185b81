import type { CommitDraftResult } from '@flotilla/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../../api/api-error.js';
import { useApi } from '../../api/api-context.js';
import { queryKeys } from '../../api/query-keys.js';
import { Link } from '../../app/Link.js';
import { navigate, useLocation } from '../../app/router.js';
import { useCan } from '../../auth/session.js';
import { ActionError } from '../../components/ActionError.js';
import { Empty, ErrorState, Loading, QueryView } from '../../components/states.js';
import { Time } from '../../components/Time.js';
import { DraftPanel } from './DraftPanel.js';
import { refreshDrafts, useDraft, useDrafts, useEditorTree } from './editor.queries.js';
import { FilePane } from './FilePane.js';
import { FileTree } from './FileTree.js';

/** `/editor` with the open draft, file and line as query parameters (a reload reopens them). */
function editorUrl(at: { draft?: string | null; path?: string | null; line?: number | null }) {
  const search = new URLSearchParams();
  if (at.draft) search.set('draft', at.draft);
  if (at.path) search.set('path', at.path);
  if (at.line) search.set('line', String(at.line));
  const query = search.toString();
  return query === '' ? '/editor' : `/editor?${query}`;
}

/**
 * The web editor: the tracked branch's files, a file in a code editor, its edits saved into
 * a draft, the draft checked, committed as the logged-in person and pushed. Admins only:
 * a commit here deploys like any push to the branch.
 */
export function EditorPage() {
  const can = useCan();
  return (
    <section aria-labelledby="editor-title" className="editor-page">
      <h1 id="editor-title">Editor</h1>
      {can('admin') ? (
        <Editor />
      ) : (
        <Empty title="Only admins edit the repository.">
          <p>
            A commit made here is pushed to the tracked branch and built and offered to the fleet
            like any other push, so editing takes the admin role. Ask an admin, or change the
            repository with git.
          </p>
        </Empty>
      )}
    </section>
  );
}

function Editor() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { search } = useLocation();
  const draftId = search.get('draft');
  const path = search.get('path');
  const line = Number(search.get('line')) || undefined;
  const head = useEditorTree(null);
  const draft = useDraft(draftId);
  const base = draft.data?.baseCommit ?? null;
  const baseTree = useEditorTree(base, base !== null && base !== head.data?.commit);
  const [session, setSession] = useState(0);
  const [notice, setNotice] = useState<CommitDraftResult | null>(null);
  const [openError, setOpenError] = useState<unknown>(null);

  // The open file's "save now"; the page calls it before anything leaves the file.
  const flush = useRef<(() => Promise<void>) | null>(null);
  const registerFlush = useCallback((f: (() => Promise<void>) | null) => {
    flush.current = f;
  }, []);
  const flushAll = useCallback(() => flush.current?.() ?? Promise.resolve(), []);

  // Typing into a file with no draft open starts one, once, on the commit the file came from.
  const currentDraft = useRef(draftId);
  useEffect(() => {
    currentDraft.current = draftId;
  }, [draftId]);
  const creating = useRef<Promise<string> | null>(null);
  const ensureDraft = useCallback(
    (baseCommit: string): Promise<string> => {
      if (currentDraft.current !== null) return Promise.resolve(currentDraft.current);
      creating.current ??= api
        .call('createDraft', { body: { baseCommit } })
        .then((created) => {
          queryClient.setQueryData(queryKeys.draft(created.id), created);
          currentDraft.current = created.id;
          const url = new URL(window.location.href);
          navigate(editorUrl({ draft: created.id, path: url.searchParams.get('path') }), {
            replace: true,
          });
          void refreshDrafts(queryClient);
          return created.id;
        })
        .finally(() => {
          creating.current = null;
        });
      return creating.current;
    },
    [api, queryClient],
  );

  /** Opens a file (at a line): the open one's edits are saved first, or it stays open. */
  const openAt = useCallback(
    (next: string, nextLine: number | null = null) => {
      setOpenError(null);
      flushAll()
        .then(() =>
          navigate(editorUrl({ draft: currentDraft.current, path: next, line: nextLine })),
        )
        .catch((error: unknown) => setOpenError(error));
    },
    [flushAll],
  );
  const changes = useMemo(
    () => new Map((draft.data?.changes ?? []).map((c) => [c.path, c.kind] as const)),
    [draft.data],
  );
  const reopen = () => setSession((n) => n + 1);

  if (head.isPending) return <Loading label="Loading the repository" />;
  if (head.isError) {
    if (head.error instanceof ApiError && head.error.code === 'repository_not_linked') {
      return (
        <Empty title="No repository is linked yet.">
          <p>
            Link the fleet's flake repository in <Link to="/settings">Settings</Link> first.
          </p>
        </Empty>
      );
    }
    return <ErrorState error={head.error} retry={() => void head.refetch()} />;
  }
  const tree = base !== null && base !== head.data.commit ? baseTree : head;
  const baseCommit = base ?? head.data.commit;

  return (
    <>
      <p className="small muted">
        Branch <code>{head.data.branch}</code> at <code>{head.data.commit.slice(0, 10)}</code>
        {head.data.flakeDir !== '' && (
          <>
            , flake in <code>{head.data.flakeDir}/</code>
          </>
        )}
        .
      </p>
      {notice && (
        <div className="callout callout-ok" role="status" data-testid="commit-result">
          <p>
            <strong>Committed and pushed</strong> <code>{notice.commit.slice(0, 10)}</code> to{' '}
            <code>{notice.branch}</code> as {notice.author}
            {notice.rebased && ' (merged onto the moved branch)'}: {notice.message.split('\n')[0]}
          </p>
          <p className="small">{notice.check.summary}. The pipeline builds it like any push.</p>
        </div>
      )}
      <ActionError error={openError} />
      <div className="editor-layout">
        <aside className="editor-side" aria-label="Drafts and files">
          <DraftList
            openId={draftId}
            onOpen={() => {
              setNotice(null);
              reopen();
            }}
          />
          <section className="card" aria-labelledby="files-title">
            <h2 id="files-title">Files</h2>
            <QueryView query={tree} label="Loading the files">
              {(data) => (
                <FileTree tree={data} changes={changes} openPath={path} onOpen={(p) => openAt(p)} />
              )}
            </QueryView>
          </section>
        </aside>
        <div className="editor-main">
          {draftId !== null && draft.isPending ? (
            <Loading label="Opening the draft" />
          ) : draftId !== null && draft.isError ? (
            draft.error instanceof ApiError && draft.error.code === 'draft_not_found' ? (
              <Empty title="This draft is gone: it was committed or discarded.">
                <Link to="/editor">Start a new edit</Link>
              </Empty>
            ) : (
              <ErrorState error={draft.error} retry={() => void draft.refetch()} />
            )
          ) : (
            <>
              {path === null ? (
                <Empty title="Choose a file to edit.">
                  <p>
                    Typing into a file starts a draft; it is saved as you type and kept until you
                    commit or discard it.
                  </p>
                </Empty>
              ) : (
                <FilePane
                  key={`${session}:${baseCommit}:${path}`}
                  path={path}
                  baseCommit={baseCommit}
                  draft={draft.data ?? null}
                  ensureDraft={ensureDraft}
                  registerFlush={registerFlush}
                  line={line}
                  onSaved={() => refreshDrafts(queryClient)}
                />
              )}
              {draft.data && (
                <DraftPanel
                  key={draft.data.id}
                  draft={draft.data}
                  headCommit={head.data.commit}
                  flushAll={flushAll}
                  onOpen={(p) => openAt(p)}
                  openAt={openAt}
                  onReload={reopen}
                  onCommitted={(result) => {
                    setNotice(result);
                    reopen();
                    navigate('/editor');
                  }}
                  onDiscarded={() => {
                    reopen();
                    navigate('/editor');
                  }}
                />
              )}
            </>
          )}
        </div>
      </div>
    </>
  );
}

/** The person's drafts: each reopens where it was left, after a reload or a restart too. */
function DraftList(props: { openId: string | null; onOpen: () => void }) {
  const drafts = useDrafts();
  return (
    <section className="card" aria-labelledby="drafts-title">
      <h2 id="drafts-title">Your drafts</h2>
      <QueryView query={drafts} label="Loading your drafts">
        {(data) =>
          data.drafts.length === 0 ? (
            <p className="muted">None. Open a file and type to start one.</p>
          ) : (
            <ul className="draft-list" data-testid="draft-list">
              {data.drafts.map((d) => (
                <li key={d.id} data-draft={d.id}>
                  <Link
                    to={editorUrl({ draft: d.id, path: d.changes[0]?.path })}
                    aria-current={d.id === props.openId ? 'true' : undefined}
                    onClick={props.onOpen}
                  >
                    {d.message.split('\n')[0] || 'Untitled draft'}
                  </Link>
                  <span className="small muted">
                    {' '}
                    {d.changes.length} file{d.changes.length === 1 ? '' : 's'},{' '}
                    <Time iso={d.updatedAt} />
                    {d.lastCheck?.conflict && d.lastCheck.draftRevision === d.revision && (
                      <span className="badge badge-bad">conflict</span>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
      {props.openId !== null && (
        <p>
          <Link to="/editor" onClick={props.onOpen}>
            Start a new edit
          </Link>
        </p>
      )}
    </section>
  );
}
