import type { Draft, DraftChangeInput } from '@flotilla/protocol';
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { ApiError } from '../../api/api-error.js';
import { useApi } from '../../api/api-context.js';
import type { ApiClient } from '../../api/api-client.js';
import { queryKeys } from '../../api/query-keys.js';

/**
 * The editor page's reads and writes. Trees and files at a commit never change, so they
 * are kept; the branch head's tree and the drafts follow live events
 * (`repository.changed`, `drafts.changed`).
 */

/** The tree at `commit`, or at the branch head of the controller's mirror when null. */
export function useEditorTree(commit: string | null, enabled = true) {
  const api = useApi();
  return useQuery({
    enabled,
    queryKey: commit === null ? queryKeys.editorHead : queryKeys.editorAt(commit, 'tree'),
    queryFn: () => api.call('editorTree', { query: commit === null ? {} : { commit } }),
    staleTime: commit === null ? 5_000 : Infinity,
  });
}

/**
 * A text file at `commit`; null when the commit has no such file (a file the draft adds).
 * Other refusals (`file_not_text`, `file_too_large`) are errors the view shows.
 */
export function useEditorFile(commit: string, path: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.editorAt(commit, 'file', path),
    queryFn: () =>
      api.call('editorFile', { query: { path, commit } }).catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 'file_not_found') return null;
        throw error;
      }),
    staleTime: Infinity,
    retry: false,
  });
}

/** The logged-in person's drafts, newest change first. */
export function useDrafts() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.drafts, queryFn: () => api.call('listDrafts') });
}

/** One draft with its files' contents and its last check. */
export function useDraft(id: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.draft(id ?? ''),
    queryFn: () => api.call('getDraft', { params: { id: id ?? '' } }),
    enabled: id !== null,
    retry: false,
  });
}

/** Refetches the drafts (list and open ones) after a change made from this page. */
export function useRefreshDrafts(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(() => refreshDrafts(queryClient), [queryClient]);
}

export function refreshDrafts(queryClient: QueryClient): Promise<void> {
  return queryClient.invalidateQueries({ queryKey: queryKeys.drafts });
}

/**
 * Saves a draft's message: `saveDraft` replaces message and changes together, so the
 * changes are read afresh and sent back as they are, at the revision read (a save in
 * between makes it `draft_stale`, and it is tried once more on the newer draft).
 */
export async function saveDraftMessage(
  api: ApiClient,
  id: string,
  message: string,
): Promise<Draft> {
  for (let attempt = 1; ; attempt += 1) {
    const draft = await api.call('getDraft', { params: { id } });
    if (draft.message === message) return draft;
    const changes: DraftChangeInput[] = draft.changes.map((change) =>
      change.content === null
        ? { op: 'delete', path: change.path }
        : { op: 'write', path: change.path, content: change.content },
    );
    try {
      await api.call('saveDraft', {
        params: { id },
        body: { message, changes, revision: draft.revision },
      });
      return await api.call('getDraft', { params: { id } });
    } catch (error) {
      if (attempt >= 2 || !(error instanceof ApiError) || error.code !== 'draft_stale') throw error;
    }
  }
}
