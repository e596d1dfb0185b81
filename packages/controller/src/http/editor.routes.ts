import { FlotillaError } from '@flotilla/protocol';
import type { Principal } from '../auth/principal.js';
import type { Editor } from '../editor/editor.composition.js';
import type { ApiHandlers } from './route.js';

type EditorRoutes = Pick<
  ApiHandlers,
  | 'editorTree'
  | 'editorFile'
  | 'listDrafts'
  | 'createDraft'
  | 'getDraft'
  | 'saveDraft'
  | 'saveDraftFile'
  | 'discardDraft'
  | 'checkDraft'
  | 'rebaseDraft'
  | 'commitDraft'
>;

/** The web editor: browsing the tracked branch, drafts, checks and commits. */
export function editorRoutes(editor: Editor): EditorRoutes {
  const { browser, drafts, committer } = editor;
  return {
    editorTree: ({ query }) => browser.tree(query),
    editorFile: ({ query }) => browser.file(query),
    listDrafts: ({ principal }) => drafts.list(person(principal)),
    createDraft: ({ principal, body }) => drafts.create(person(principal), body),
    getDraft: ({ principal, params }) => drafts.get(person(principal), params.id),
    saveDraft: ({ principal, params, body }) => drafts.save(person(principal), params.id, body),
    saveDraftFile: ({ principal, params, body }) =>
      drafts.saveFile(person(principal), params.id, body),
    discardDraft: ({ principal, params, actor }) =>
      drafts.discard(person(principal), params.id, actor),
    checkDraft: ({ principal, params, body }) =>
      committer.check(person(principal), params.id, body),
    rebaseDraft: ({ principal, params, body }) => drafts.rebase(person(principal), params.id, body),
    commitDraft: ({ principal, params, body, actor }) =>
      committer.commit(person(principal), params.id, body, actor),
  };
}

/** Drafts belong to people: the routes are never public, so a principal is always there. */
function person(principal: Principal | null): Principal {
  if (principal === null) throw new FlotillaError('unauthorized', 'log in first');
  return principal;
}
