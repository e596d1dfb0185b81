import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { DraftRepository, type DraftFileRow } from './draft.repository.js';
import { Store } from './store.js';

const T0 = '2026-03-02T10:00:00.000Z';
const SHA = 'a'.repeat(40);

async function withUsers(db: Db): Promise<DraftRepository> {
  for (const [id, username] of [
    ['u1', 'ada'],
    ['u2', 'grace'],
  ]) {
    await db
      .insertInto('users')
      .values({
        id: id ?? '',
        username: username ?? '',
        role: 'admin',
        password_hash: 'x',
        totp_secret: null,
        locked_until: null,
        disabled_at: null,
        created_at: T0,
        created_by: 'test',
        updated_at: T0,
      })
      .execute();
  }
  return new DraftRepository(db);
}

async function addDraft(drafts: DraftRepository, id: string, owner = 'u1', at = T0) {
  await drafts.insert({
    id,
    repository_id: 'default',
    owner_id: owner,
    branch: 'main',
    base_commit: SHA,
    message: 'fix: “quoted” ✓',
    revision: 1,
    status: 'open',
    pending_commit: null,
    pending_parent: null,
    pending_actor: null,
    check_json: null,
    created_at: at,
    updated_at: at,
  });
}

const file = (draftId: string, path: string, content: string | null): DraftFileRow => ({
  draft_id: draftId,
  path,
  kind: content === null ? 'deleted' : 'modified',
  content,
  size: content === null ? 0 : Buffer.byteLength(content),
  base_blob: 'b'.repeat(40),
  base_mode: '100644',
});

for (const engine of testDatabases()) {
  describe(`editor drafts on ${engine.name}`, { concurrency: true }, () => {
    it('keeps a draft’s files exactly, and lists a user’s own drafts, newest first', () =>
      engine.withDatabase(async (db) => {
        const drafts = await withUsers(db);
        await addDraft(drafts, 'd1');
        await addDraft(drafts, 'd2', 'u1', '2026-03-02T11:00:00.000Z');
        await addDraft(drafts, 'd3', 'u2');
        const content = '{ # Grüße\n  a = "\\${x}";\r\n}\n';
        await drafts.putFile(file('d1', 'hosts/z.nix', content));
        await drafts.putFile(file('d1', 'hosts/a.nix', null));
        await drafts.putFile(file('d1', 'hosts/z.nix', `${content}# again\n`));
        const files = await drafts.files('d1');
        assert.deepEqual(
          files.map((f) => [f.path, f.kind, f.content]),
          [
            ['hosts/a.nix', 'deleted', null],
            ['hosts/z.nix', 'modified', `${content}# again\n`],
          ],
        );
        assert.deepEqual(
          (await drafts.listByOwner('u1')).map((d) => [d.id, d.owner_name]),
          [
            ['d2', 'ada'],
            ['d1', 'ada'],
          ],
        );
        const summaries = await drafts.fileSummaries(['d1', 'd2']);
        assert.equal(summaries.length, 2);
        assert.ok(!('content' in (summaries[0] ?? {})), 'summaries carry no content');
        assert.equal((await drafts.find('d1'))?.message, 'fix: “quoted” ✓');
      }));

    it('saves only an open draft at the revision named, and forgets its check', () =>
      engine.withDatabase(async (db) => {
        const drafts = await withUsers(db);
        await addDraft(drafts, 'd1');
        await drafts.saveCheck('d1', 1, '{"ok":true}');
        assert.equal((await drafts.find('d1'))?.check_json, '{"ok":true}');
        assert.equal(await drafts.bump('d1', 2, { updatedAt: T0 }), false, 'stale');
        assert.equal(await drafts.bump('d1', 1, { updatedAt: T0, message: 'new' }), true);
        const row = await drafts.find('d1');
        assert.equal(Number(row?.revision), 2);
        assert.equal(row?.message, 'new');
        assert.equal(row?.check_json, null);
        await drafts.saveCheck('d1', 1, '{"ok":true}');
        assert.equal((await drafts.find('d1'))?.check_json, null, 'a check of an older revision');
        assert.equal(await drafts.bump('d1', undefined, { updatedAt: T0 }), true);
      }));

    it('moves a draft to pushing once, back to open or away only for the same commit', () =>
      engine.withDatabase(async (db) => {
        const drafts = await withUsers(db);
        await addDraft(drafts, 'd1');
        await drafts.putFile(file('d1', 'a.nix', 'x'));
        const pending = { commit: 'c'.repeat(40), parent: SHA, actor: 'ada', message: 'm', at: T0 };
        assert.equal(await drafts.markPushing('d1', 2, pending), false, 'another revision');
        assert.equal(await drafts.markPushing('d1', 1, pending), true);
        assert.equal(await drafts.markPushing('d1', 1, pending), false, 'not twice');
        assert.deepEqual(
          (await drafts.pushing()).map((d) => d.id),
          ['d1'],
        );
        assert.equal(await drafts.bump('d1', undefined, { updatedAt: T0 }), false, 'no saves');
        assert.equal(await drafts.remove('d1'), false, 'not discarded while pushing');
        assert.equal(await drafts.reopen('d1', 'd'.repeat(40), T0), false, 'another commit');
        assert.equal(await drafts.reopen('d1', pending.commit, T0), true);
        assert.equal((await drafts.find('d1'))?.status, 'open');
        await drafts.markPushing('d1', 1, pending);
        assert.equal(await drafts.remove('d1', pending.commit), true);
        assert.equal(await drafts.remove('d1', pending.commit), false, 'once');
        assert.deepEqual(await drafts.files('d1'), [], 'its files went with it');
      }));

    it('commits or drops a draft’s files and their audit entry together', () =>
      engine.withDatabase(async (db) => {
        await withUsers(db);
        const store = new Store(db);
        await addDraft(store.drafts, 'd1');
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.drafts.remove('d1');
            await tx.events.append([{ at: T0, kind: 'editor.draft_discarded', actor: 'ada' }]);
            throw new Error('the process stopped here');
          }),
        );
        assert.ok(await store.drafts.find('d1'), 'the draft is still there');
        assert.equal((await store.events.list({ limit: 10 })).length, 0, 'and no entry');
      }));
  });
}
