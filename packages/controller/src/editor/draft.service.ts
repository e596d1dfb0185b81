import {
  FlotillaError,
  type CreateDraftRequest,
  type DiscardedDraft,
  type Draft,
  type DraftList,
  type DraftSummary,
  type RebaseDraftRequest,
  type SaveDraftFileRequest,
  type SaveDraftRequest,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Principal } from '../auth/principal.js';
import { blobId, GitObjects } from '../git/git-objects.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { DraftFileRow, DraftRow } from '../storage/draft.repository.js';
import type { Store } from '../storage/store.js';
import { newId } from '../support/tokens.js';
import { applyDraft } from './draft-apply.js';
import {
  applyChange,
  baseTreeOf,
  checkDraftLimits,
  type BaseTree,
  type FileChange,
} from './draft-changes.js';
import { toDraft, toDraftFile, toDraftSummary } from './draft.view.js';
import { resolveCommit, type EditorMirror } from './editor-mirror.js';

export interface DraftServiceOptions {
  store: Store;
  repository: EditorMirror & { sync(reason: 'editor'): Promise<unknown> };
  clock: Clock;
  /** Told when a draft is made, saved, rebased or discarded (`drafts.changed`). */
  live: LiveEvents;
  /**
   * Settles a draft left `pushing` by a stopped controller or a failed push (see
   * DraftCommitter.settle); called before a pushing draft is shown or changed.
   */
  settlePushing: (row: DraftRow) => Promise<void>;
}

/** Every change of a draft is told the same way: clients refetch the drafts they show. */
export const DRAFTS_CHANGED = { type: 'drafts.changed' } as const;

/** How often a save that raced another save of the same draft is tried again. */
const SAVE_ATTEMPTS = 3;
/** Base trees kept in memory (commits never change). */
const BASE_TREE_CACHE = 16;

/**
 * Drafts: made, listed, read, saved (every change is a write, so nothing typed is lost to
 * a reload or a restart), moved onto the branch head, discarded. A draft is its owner's:
 * anyone else is told it does not exist.
 */
export class DraftService {
  private readonly baseTrees = new Map<string, Promise<BaseTree>>();

  constructor(private readonly options: DraftServiceOptions) {}

  async list(principal: Principal): Promise<DraftList> {
    const { drafts } = this.options.store;
    const rows = await drafts.listByOwner(principal.user.id);
    const files = await drafts.fileSummaries(rows.map((row) => row.id));
    return {
      drafts: rows.map((row) =>
        toDraftSummary(
          row,
          files.filter((file) => file.draft_id === row.id),
        ),
      ),
    };
  }

  async create(principal: Principal, request: CreateDraftRequest): Promise<Draft> {
    const { store, clock } = this.options;
    const { link, git } = await this.options.repository.mirror();
    const base = await resolveCommit(git, link, request.baseCommit);
    const now = clock.now();
    const id = newId('dr', now);
    await store.drafts.insert({
      id,
      repository_id: link.id,
      owner_id: principal.user.id,
      branch: link.branch,
      base_commit: base,
      message: request.message,
      revision: 1,
      status: 'open',
      pending_commit: null,
      pending_parent: null,
      pending_actor: null,
      check_json: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    });
    this.options.live.publish(DRAFTS_CHANGED);
    return this.get(principal, id);
  }

  async get(principal: Principal, id: string): Promise<Draft> {
    const row = await this.owned(principal, id);
    return toDraft(row, await this.options.store.drafts.files(id));
  }

  /** Replaces the message and every change of a draft. */
  async save(principal: Principal, id: string, request: SaveDraftRequest): Promise<DraftSummary> {
    const paths = request.changes.map((change) => change.path);
    const duplicate = paths.find((path, index) => paths.indexOf(path) !== index);
    if (duplicate !== undefined) {
      throw new FlotillaError('validation_failed', `${duplicate} is changed twice`);
    }
    return this.update(principal, id, request.revision, {
      replace: true,
      message: request.message,
      changes: request.changes,
    });
  }

  /** Writes, deletes or reverts one file of a draft. */
  async saveFile(
    principal: Principal,
    id: string,
    request: SaveDraftFileRequest,
  ): Promise<DraftSummary> {
    return this.update(principal, id, request.revision, { replace: false, changes: [request] });
  }

  /** Throws a draft away, with its audit entry, in one transaction. */
  async discard(principal: Principal, id: string, actor: string): Promise<DiscardedDraft> {
    const row = await this.owned(principal, id);
    if (row.status !== 'open') throw busy(id);
    const at = this.options.clock.now().toISOString();
    await this.options.store.transaction(async (tx) => {
      const files = await tx.drafts.files(id);
      if (!(await tx.drafts.remove(id))) throw busy(id);
      this.options.live.publish(DRAFTS_CHANGED, tx);
      await tx.events.append([
        {
          at,
          kind: 'editor.draft_discarded',
          actor,
          data: {
            draftId: id,
            branch: row.branch,
            baseCommit: row.base_commit,
            message: row.message,
            paths: files.map((file) => file.path),
          },
        },
      ]);
    });
    return { discarded: id };
  }

  /**
   * Moves a draft onto the branch head (fetched first): files that merge cleanly take the
   * merged content, `resolutions` settle the ones that conflict. A conflict left unsettled
   * answers `draft_conflict` with every version of each file, and changes nothing.
   */
  async rebase(principal: Principal, id: string, request: RebaseDraftRequest): Promise<Draft> {
    const row = await this.owned(principal, id);
    requireRevision(row, request.revision);
    const { drafts } = this.options.store;
    const files = await drafts.files(id);
    const known = new Set(files.map((file) => file.path));
    const stray = request.resolutions.find((resolution) => !known.has(resolution.path));
    if (stray !== undefined) {
      throw new FlotillaError('validation_failed', `${stray.path} is not a file of this draft`);
    }
    await this.options.repository.sync('editor');
    const { link, git } = await this.options.repository.mirror();
    const head = await resolveCommit(git, link);
    const objects = new GitObjects(git);
    const applied = await applyDraft(objects, {
      baseCommit: row.base_commit,
      headCommit: head,
      files: files.map(toDraftFile),
      resolutions: new Map(request.resolutions.map((r) => [r.path, r.content])),
    });
    if (!applied.ok) {
      throw new FlotillaError(
        'draft_conflict',
        `${applied.conflict.files.length} file(s) of the draft conflict with the branch head`,
        applied.conflict,
      );
    }
    const rows: DraftFileRow[] = [];
    for (const file of applied.files) {
      const { target, content } = file;
      if (content === null) {
        if (target !== null) rows.push(fileRow(id, file.path, null, target));
      } else if (target === null || blobId(content, target.oid.length) !== target.oid) {
        rows.push(fileRow(id, file.path, content, target));
      }
    }
    const at = this.options.clock.now().toISOString();
    await this.options.store.transaction(async (tx) => {
      if (!(await tx.drafts.bump(id, request.revision, { updatedAt: at, baseCommit: head }))) {
        throw refusal(await tx.drafts.find(id), id);
      }
      await tx.drafts.replaceFiles(id, rows);
      this.options.live.publish(DRAFTS_CHANGED, tx);
    });
    return this.get(principal, id);
  }

  /**
   * The caller's draft, after settling a push a stopped controller left undecided; another
   * user's draft does not exist for the caller.
   */
  async owned(principal: Principal, id: string): Promise<DraftRow> {
    const { drafts } = this.options.store;
    let row = await drafts.find(id);
    if (row?.status === 'pushing') {
      await this.options.settlePushing(row);
      row = await drafts.find(id);
    }
    if (row === undefined || row.owner_id !== principal.user.id) {
      throw new FlotillaError('draft_not_found', `no draft ${id}`);
    }
    return row;
  }

  /** The tree of a commit, listed once and kept (commits never change). */
  baseTree(git: GitObjects, commit: string): Promise<BaseTree> {
    let tree = this.baseTrees.get(commit);
    if (tree === undefined) {
      tree = git.listTree(commit, '', { recursive: true, limit: Infinity }).then((listing) => {
        if (listing === undefined)
          throw new FlotillaError('revision_not_found', `no commit ${commit}`);
        return baseTreeOf(listing.entries);
      });
      tree.catch(() => this.baseTrees.delete(commit));
      if (this.baseTrees.size >= BASE_TREE_CACHE) {
        this.baseTrees.delete(this.baseTrees.keys().next().value ?? '');
      }
      this.baseTrees.set(commit, tree);
    }
    return tree;
  }

  /**
   * A save: the draft's files with `changes` applied, written with a new revision in one
   * transaction. Without a revision from the caller, a save that raced another is tried
   * again on the newer draft; with one, it is refused (`draft_stale`).
   */
  private async update(
    principal: Principal,
    id: string,
    revision: number | undefined,
    edit: { replace: boolean; message?: string; changes: readonly FileChange[] },
  ): Promise<DraftSummary> {
    const { store, clock, repository } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      const row = await this.owned(principal, id);
      if (revision !== undefined) requireRevision(row, revision);
      if (row.status !== 'open') throw busy(id);
      const { git } = await repository.mirror();
      const base = await this.baseTree(new GitObjects(git), row.base_commit);
      const files = new Map<string, DraftFileRow>();
      if (!edit.replace) {
        for (const file of await store.drafts.files(id)) files.set(file.path, file);
      }
      for (const change of edit.changes) applyChange(files, change, base, id);
      checkDraftLimits(files);
      const at = clock.now().toISOString();
      const saved = await store.transaction(async (tx) => {
        const { message } = edit;
        const fields = { updatedAt: at, ...(message !== undefined ? { message } : {}) };
        if (!(await tx.drafts.bump(id, row.revision, fields))) return false;
        await tx.drafts.replaceFiles(id, [...files.values()]);
        this.options.live.publish(DRAFTS_CHANGED, tx);
        return true;
      });
      if (saved) {
        const stored = await this.owned(principal, id);
        return toDraftSummary(stored, await store.drafts.fileSummaries([id]));
      }
      if (revision !== undefined || attempt >= SAVE_ATTEMPTS) {
        throw refusal(await store.drafts.find(id), id);
      }
    }
  }
}

/** Why a conditional write of a draft changed nothing. */
function refusal(row: DraftRow | undefined, id: string): FlotillaError {
  if (row === undefined) return new FlotillaError('draft_not_found', `no draft ${id}`);
  if (row.status !== 'open') return busy(id);
  return new FlotillaError(
    'draft_stale',
    `draft ${id} was saved meanwhile (revision ${row.revision}); reload it`,
    { revision: Number(row.revision) },
  );
}

/** Refuses work on a draft the caller saw at another revision. */
export function requireRevision(row: DraftRow, revision: number): void {
  if (Number(row.revision) !== revision) {
    throw new FlotillaError(
      'draft_stale',
      `draft ${row.id} is at revision ${row.revision}, not ${revision}; reload it`,
      { revision: Number(row.revision) },
    );
  }
}

export function busy(id: string): FlotillaError {
  return new FlotillaError('draft_busy', `draft ${id} is being committed`);
}

function fileRow(
  draftId: string,
  path: string,
  content: string | null,
  target: { oid: string; mode: string } | null,
): DraftFileRow {
  return {
    draft_id: draftId,
    path,
    kind: content === null ? 'deleted' : target === null ? 'added' : 'modified',
    content,
    size: content === null ? 0 : Buffer.byteLength(content, 'utf8'),
    base_blob: target?.oid ?? null,
    base_mode: target?.mode ?? null,
  };
}
