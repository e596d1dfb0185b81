import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FlakeHostsEvaluation } from '@flotilla/controller';
import { testDatabases } from '@flotilla/controller/testing';
import {
  FlotillaError,
  type AuditList,
  type CommitDraftResult,
  type Draft,
  type DraftCheck,
  type DraftConflict,
  type DraftList,
  type EditorFile,
  type EditorTree,
  type ErrorBody,
} from '@flotilla/protocol';
import { GitFlakeRepo, run } from '@flotilla/sandbox';
import { ServiceFleet, storePath } from './service-fixture.js';

/** A host file; its version and its exit code are three lines apart (they merge apart). */
const HOST = (version: string) =>
  `{\n  version = "${version}";\n  # one\n  # two\n  # three\n  exitCode = 0;\n}\n`;

/**
 * Nix stood in for, reading the commit it is asked about: each `hosts/<name>.nix` is a host
 * whose derivation follows from the file's content; a file containing BROKEN fails with a
 * located error, a flake.nix containing BROKEN fails the flake as a whole.
 */
function nixReadingCommits(): (flakeUrl: string) => Promise<FlakeHostsEvaluation> {
  return async (flakeUrl) => {
    const url = new URL(flakeUrl.replace(/^git\+file:/, 'file:'));
    const rev = url.searchParams.get('rev') ?? '';
    const git = (...args: string[]) =>
      run('git', ['--git-dir', url.pathname, ...args]).then((r) => r.stdout);
    const source = `/nix/store/${'s'.repeat(32)}-source`;
    if ((await git('show', `${rev}:flake.nix`)).includes('BROKEN')) {
      throw new FlotillaError(
        'evaluation_failed',
        `error: syntax error, unexpected end of file\n\n       at ${source}/flake.nix:3:1:`,
      );
    }
    const evaluation: FlakeHostsEvaluation = {
      nixos: {},
      hostErrors: {},
      hostErrorDetails: {},
      evaluatedPerHost: false,
      darwin: [],
      home: [],
    };
    const names = (await git('ls-tree', '--name-only', `${rev}:hosts`)).split('\n');
    for (const file of names.filter((name) => name.endsWith('.nix'))) {
      const host = file.replace(/\.nix$/, '');
      const content = await git('show', `${rev}:hosts/${file}`);
      if (content.includes('BROKEN')) {
        evaluation.hostErrors[host] =
          `error: syntax error, unexpected '}'\n\n       at ${source}/hosts/${file}:4:1:`;
        evaluation.evaluatedPerHost = true;
      } else {
        const digest = createHash('sha1').update(content).digest('hex').slice(0, 8);
        evaluation.nixos[host] = `${storePath(`nixos-system-${host}-${digest}`)}.drv`;
      }
    }
    return evaluation;
  };
}

for (const engine of testDatabases()) {
  describe(`the web editor's API (${engine.name})`, { timeout: 120_000 }, () => {
    let dir: string;
    let github: GitFlakeRepo;
    let fleet: ServiceFleet;
    let admin: string;
    let remove: () => Promise<void>;

    const call = async <T>(method: string, url: string, payload?: unknown, token = admin) => {
      const response = await fleet.controller.app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      return { status: response.statusCode, body: response.json<T & { error: ErrorBody }>() };
    };
    const remoteHead = () => github.git(github.bare, ['rev-parse', 'refs/heads/main']);
    const remoteFile = (path: string) => github.git(github.bare, ['show', `main:${path}`]);
    /** Someone else pushes to the branch (from a clone brought up to date first). */
    const push = async (path: string, content: string, message: string) => {
      await github.git(github.work, ['pull', '--quiet', '--ff-only', 'origin', 'main']);
      await writeFile(join(github.work, path), content);
      await github.commit(message);
      await github.push();
    };
    const newDraft = async (edits: Record<string, string | null>, message = 'quick fix') => {
      const created = await call<Draft>('POST', '/api/v1/editor/drafts', { message });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      for (const [path, content] of Object.entries(edits)) {
        const saved = await call<Draft>(
          'PUT',
          `/api/v1/editor/drafts/${created.body.id}/files`,
          content === null ? { op: 'delete', path } : { op: 'write', path, content },
        );
        assert.equal(saved.status, 200, JSON.stringify(saved.body));
      }
      return (await call<Draft>('GET', `/api/v1/editor/drafts/${created.body.id}`)).body;
    };
    const audit = async (kind: string) =>
      (await call<AuditList>('GET', `/api/v1/audit?kind=${kind}`)).body.entries;
    /** What `work` gave, and how many `drafts.changed` live events it caused. */
    const draftEvents = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
      let count = 0;
      const { unsubscribe } = fleet.services.live.subscribe(({ event }) => {
        if (event.type === 'drafts.changed') count += 1;
      });
      try {
        return [await work(), count];
      } finally {
        unsubscribe();
      }
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'flotilla-editor-service-'));
      github = await GitFlakeRepo.create(join(dir, 'github'));
      await run('mkdir', ['-p', join(github.work, 'hosts')]);
      await writeFile(join(github.work, 'flake.nix'), '{ outputs = _: { }; }\n');
      await writeFile(join(github.work, 'hosts', 'alpha.nix'), HOST('1'));
      await writeFile(join(github.work, 'hosts', 'beta.nix'), HOST('1'));
      await writeFile(join(github.work, 'README.md'), '# fleet\n');
      await writeFile(join(github.work, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]));
      await github.commit('initial fleet');
      await github.push();
      const database = await engine.create();
      remove = () => database.remove();
      fleet = await ServiceFleet.start(database, {
        config: { repository: { url: github.bare, branch: 'main', pollIntervalSeconds: 3600 } },
      });
      fleet.nix.evaluateWith = nixReadingCommits();
      admin = await fleet.adminToken();
      await fleet.services.repository.sync('api');
    });

    after(async () => {
      await fleet?.stop();
      await remove?.();
      await rm(dir, { recursive: true, force: true });
    });

    it('browses the branch head: the tree, a text file, and refuses what it cannot open', async () => {
      const tree = await call<EditorTree>('GET', '/api/v1/editor/tree');
      assert.equal(tree.status, 200, JSON.stringify(tree.body));
      assert.equal(tree.body.commit, await remoteHead());
      assert.deepEqual(
        tree.body.entries.map((e) => [e.path, e.type]),
        [
          ['README.md', 'file'],
          ['flake.nix', 'file'],
          ['hosts', 'directory'],
          ['hosts/alpha.nix', 'file'],
          ['hosts/beta.nix', 'file'],
          ['logo.png', 'file'],
        ],
      );
      const hosts = await call<EditorTree>('GET', '/api/v1/editor/tree?path=hosts&recursive=false');
      assert.deepEqual(
        hosts.body.entries.map((e) => e.path),
        ['hosts/alpha.nix', 'hosts/beta.nix'],
      );
      const file = await call<EditorFile>('GET', '/api/v1/editor/file?path=hosts/alpha.nix');
      assert.equal(file.body.content, HOST('1'));
      const refusals: [string, number, string][] = [
        ['/api/v1/editor/file?path=logo.png', 415, 'file_not_text'],
        ['/api/v1/editor/file?path=hosts/none.nix', 404, 'file_not_found'],
        ['/api/v1/editor/file?path=hosts', 404, 'file_not_found'],
        ['/api/v1/editor/file?path=../etc/passwd', 400, 'validation_failed'],
        ['/api/v1/editor/file?path=%2Fetc%2Fpasswd', 400, 'validation_failed'],
        ['/api/v1/editor/file?path=.git/config', 400, 'validation_failed'],
        [`/api/v1/editor/file?path=README.md&commit=${'0'.repeat(40)}`, 404, 'revision_not_found'],
      ];
      for (const [url, status, code] of refusals) {
        const answer = await call<unknown>('GET', url);
        assert.deepEqual([answer.status, answer.body.error.code], [status, code], url);
      }
    });

    it('keeps drafts per user, saves each change, and refuses a stale revision', async () => {
      const [draft, made] = await draftEvents(() =>
        newDraft({ 'hosts/alpha.nix': HOST('2'), 'docs/new.md': 'new\n' }),
      );
      assert.equal(made, 3, 'drafts.changed for the new draft and each save');
      assert.equal(draft.owner, 'admin');
      assert.equal(draft.revision, 3);
      assert.deepEqual(
        draft.changes.map((c) => [c.path, c.kind, c.content]),
        [
          ['docs/new.md', 'added', 'new\n'],
          ['hosts/alpha.nix', 'modified', HOST('2')],
        ],
      );
      const back = await call<Draft>('PUT', `/api/v1/editor/drafts/${draft.id}/files`, {
        op: 'write',
        path: 'hosts/alpha.nix',
        content: HOST('1'),
        revision: 3,
      });
      assert.deepEqual(
        back.body.changes.map((c) => c.path),
        ['docs/new.md'],
        'writing the base content back is no change',
      );
      const stale = await call<unknown>('PUT', `/api/v1/editor/drafts/${draft.id}`, {
        message: 'other tab',
        changes: [],
        revision: 3,
      });
      assert.deepEqual([stale.status, stale.body.error.code], [409, 'draft_stale']);
      const list = await call<DraftList>('GET', '/api/v1/editor/drafts');
      assert.ok(list.body.drafts.some((d) => d.id === draft.id));

      const other = (await fleet.userWithToken('grace', 'admin')).token;
      const hidden = await call<unknown>(
        'GET',
        `/api/v1/editor/drafts/${draft.id}`,
        undefined,
        other,
      );
      assert.deepEqual([hidden.status, hidden.body.error.code], [404, 'draft_not_found']);
      const theirs = await call<DraftList>('GET', '/api/v1/editor/drafts', undefined, other);
      assert.deepEqual(theirs.body.drafts, []);

      const [discarded, discards] = await draftEvents(() =>
        call<unknown>('DELETE', `/api/v1/editor/drafts/${draft.id}`),
      );
      assert.equal(discarded.status, 200);
      assert.equal(discards, 1, 'drafts.changed for the discard');
      const entries = await audit('editor.draft_discarded');
      assert.equal(entries.length, 1);
      assert.deepEqual((entries[0]?.data as { paths: string[] }).paths, ['docs/new.md']);
    });

    it('refuses every editor route to operators and viewers', async () => {
      const operator = (await fleet.userWithToken('olga', 'operator')).token;
      const viewer = (await fleet.userWithToken('vera', 'viewer')).token;
      for (const token of [operator, viewer]) {
        for (const [method, url, payload] of [
          ['GET', '/api/v1/editor/tree', undefined],
          ['GET', '/api/v1/editor/file?path=README.md', undefined],
          ['GET', '/api/v1/editor/drafts', undefined],
          ['POST', '/api/v1/editor/drafts', {}],
        ] as const) {
          const answer = await call<unknown>(method, url, payload, token);
          assert.deepEqual([answer.status, answer.body.error.code], [403, 'forbidden'], url);
        }
      }
    });

    it('checks a draft without pushing: which hosts rebuild, and a broken host with file:line', async () => {
      const head = await remoteHead();
      const draft = await newDraft({ 'hosts/beta.nix': HOST('2') });
      const check = await call<DraftCheck>('POST', `/api/v1/editor/drafts/${draft.id}/check`, {
        revision: draft.revision,
      });
      assert.equal(check.status, 200, JSON.stringify(check.body));
      assert.equal(check.body.ok, true);
      assert.deepEqual(
        check.body.hosts.map((h) => [h.host, h.status]),
        [
          ['alpha', 'unchanged'],
          ['beta', 'rebuild'],
        ],
      );
      assert.equal(check.body.summary, 'rebuilds 1 of 2 hosts');

      await call<Draft>('PUT', `/api/v1/editor/drafts/${draft.id}/files`, {
        op: 'write',
        path: 'hosts/alpha.nix',
        content: '{\n  version = "2"\n  BROKEN\n}\n',
      });
      const broken = await call<DraftCheck>('POST', `/api/v1/editor/drafts/${draft.id}/check`, {});
      assert.equal(broken.body.ok, false);
      const alpha = broken.body.hosts.find((h) => h.host === 'alpha');
      assert.equal(alpha?.status, 'error');
      assert.deepEqual(alpha.error?.location, { file: 'hosts/alpha.nix', line: 4, column: 1 });
      const stored = (await call<Draft>('GET', `/api/v1/editor/drafts/${draft.id}`)).body;
      assert.equal(stored.lastCheck?.ok, false, 'the check is kept on the draft');

      const refused = await call<unknown>('POST', `/api/v1/editor/drafts/${draft.id}/commit`, {
        revision: stored.revision,
      });
      assert.deepEqual([refused.status, refused.body.error.code], [422, 'draft_check_failed']);
      assert.equal(await remoteHead(), head, 'nothing was pushed');
      await call<unknown>('DELETE', `/api/v1/editor/drafts/${draft.id}`);
    });

    it('reports a broken flake.nix as the flake’s error and pushes nothing', async () => {
      const head = await remoteHead();
      const draft = await newDraft({ 'flake.nix': '{ outputs = BROKEN\n' });
      const check = await call<DraftCheck>('POST', `/api/v1/editor/drafts/${draft.id}/check`, {});
      assert.equal(check.body.ok, false);
      assert.deepEqual(check.body.flakeError?.location, { file: 'flake.nix', line: 3, column: 1 });
      const refused = await call<unknown>('POST', `/api/v1/editor/drafts/${draft.id}/commit`, {
        revision: draft.revision,
      });
      assert.equal(refused.body.error.code, 'draft_check_failed');
      assert.equal(await remoteHead(), head);
      await call<unknown>('DELETE', `/api/v1/editor/drafts/${draft.id}`);
    });

    it('commits as the user onto the branch and pushes it; the draft is gone and audited', async () => {
      const parent = await remoteHead();
      const draft = await newDraft({ 'hosts/beta.nix': HOST('3'), 'README.md': null });
      const [committed, told] = await draftEvents(() =>
        call<CommitDraftResult>('POST', `/api/v1/editor/drafts/${draft.id}/commit`, {
          revision: draft.revision,
          message: 'beta: version 3',
        }),
      );
      assert.equal(committed.status, 201, JSON.stringify(committed.body));
      assert.equal(told, 2, 'drafts.changed for the kept check and for the commit');
      assert.equal(committed.body.parent, parent);
      assert.equal(committed.body.rebased, false);
      assert.equal(await remoteHead(), committed.body.commit);
      assert.equal(
        await github.git(github.bare, ['log', '-1', '--format=%an <%ae>|%cn|%P|%B', 'main']),
        `admin <admin@flotilla.invalid>|Flotilla|${parent}|beta: version 3`,
      );
      assert.equal(await remoteFile('hosts/beta.nix'), HOST('3').trimEnd());
      await assert.rejects(remoteFile('README.md'), 'README.md was deleted');
      const gone = await call<unknown>('GET', `/api/v1/editor/drafts/${draft.id}`);
      assert.equal(gone.body.error.code, 'draft_not_found');
      const [entry] = await audit('editor.committed');
      assert.deepEqual(entry?.data, {
        draftId: draft.id,
        branch: 'main',
        commit: committed.body.commit,
        parent,
        baseCommit: parent,
        rebased: false,
        message: 'beta: version 3',
        paths: ['README.md', 'hosts/beta.nix'],
        recovered: false,
      });
      const repository = await fleet.services.repository.get();
      assert.equal(repository.followedSha, committed.body.commit, 'synced right after the push');
    });

    it('commits a draft once when asked twice at the same time', async () => {
      const draft = await newDraft({ 'docs/twice.md': 'asked twice\n' });
      const url = `/api/v1/editor/drafts/${draft.id}/commit`;
      const answers = await Promise.all([
        call<CommitDraftResult>('POST', url, { revision: draft.revision }),
        call<CommitDraftResult>('POST', url, { revision: draft.revision }),
      ]);
      assert.deepEqual(
        answers.map((a) => a.status).sort(),
        [201, 409],
        JSON.stringify(answers.map((a) => a.body)),
      );
      assert.equal(answers.find((a) => a.status === 409)?.body.error.code, 'draft_busy');
      const pushed = answers.find((a) => a.status === 201)?.body.commit;
      assert.equal(await remoteHead(), pushed);
      assert.equal(
        await github.git(github.bare, ['rev-parse', `${pushed ?? ''}^`]),
        answers.find((a) => a.status === 201)?.body.parent,
        'one commit on the branch, not two',
      );
    });

    it('merges onto a branch that moved with other changes, and pushes the merge', async () => {
      const draft = await newDraft({
        'hosts/alpha.nix': HOST('1').replace('exitCode = 0', 'exitCode = 4'),
      });
      await push('hosts/alpha.nix', HOST('5'), 'someone else: alpha 5');
      const moved = await remoteHead();
      const committed = await call<CommitDraftResult>(
        'POST',
        `/api/v1/editor/drafts/${draft.id}/commit`,
        { revision: draft.revision },
      );
      assert.equal(committed.status, 201, JSON.stringify(committed.body));
      assert.equal(committed.body.rebased, true);
      assert.equal(committed.body.parent, moved);
      assert.equal(
        await remoteFile('hosts/alpha.nix'),
        HOST('5').replace('exitCode = 0', 'exitCode = 4').trimEnd(),
      );
      assert.deepEqual(
        committed.body.check.hosts.map((h) => [h.host, h.status]),
        [
          ['alpha', 'rebuild'],
          ['beta', 'unchanged'],
        ],
      );
    });

    it('fetches, merges and checks again when the branch moves while the draft is evaluated', async () => {
      const draft = await newDraft({ 'hosts/beta.nix': HOST('8') });
      const readCommits = fleet.nix.evaluateWith;
      let moved: string | undefined;
      fleet.nix.evaluateWith = async (flakeUrl) => {
        if (moved === undefined && decodeURIComponent(flakeUrl).includes('editor-commit')) {
          await push('NOTES.md', 'pushed while the draft was evaluated\n', 'someone else: notes');
          moved = await remoteHead();
        }
        return (readCommits ?? nixReadingCommits())(flakeUrl);
      };
      try {
        const committed = await call<CommitDraftResult>(
          'POST',
          `/api/v1/editor/drafts/${draft.id}/commit`,
          { revision: draft.revision },
        );
        assert.equal(committed.status, 201, JSON.stringify(committed.body));
        assert.ok(moved !== undefined);
        assert.equal(committed.body.parent, moved, 'the second round built on the moved head');
        assert.equal(committed.body.rebased, true);
        assert.equal(await remoteHead(), committed.body.commit);
        assert.equal(await remoteFile('NOTES.md'), 'pushed while the draft was evaluated');
        assert.equal(await remoteFile('hosts/beta.nix'), HOST('8').trimEnd());
      } finally {
        fleet.nix.evaluateWith = readCommits;
      }
    });

    it('answers a conflict with every version, keeps the draft, and pushes nothing', async () => {
      const draft = await newDraft({ 'hosts/beta.nix': HOST('mine') });
      await push('hosts/beta.nix', HOST('theirs'), 'someone else: beta');
      const head = await remoteHead();
      const refused = await call<unknown>('POST', `/api/v1/editor/drafts/${draft.id}/commit`, {
        revision: draft.revision,
      });
      assert.deepEqual([refused.status, refused.body.error.code], [409, 'draft_conflict']);
      const conflict = refused.body.error.details as DraftConflict;
      assert.equal(conflict.headCommit, head);
      assert.deepEqual(
        conflict.files.map((f) => [f.path, f.reason, f.branch, f.draft]),
        [['hosts/beta.nix', 'both_modified', HOST('theirs'), HOST('mine')]],
      );
      assert.equal(await remoteHead(), head, 'nothing was pushed');
      const kept = (await call<Draft>('GET', `/api/v1/editor/drafts/${draft.id}`)).body;
      assert.equal(kept.status, 'open');
      assert.equal(kept.changes[0]?.content, HOST('mine'), 'the draft is untouched');
      assert.equal(kept.lastCheck?.conflict?.files.length, 1);

      // Resolving it: the draft moves onto the head with the person's version of the file.
      const rebased = await call<Draft>('POST', `/api/v1/editor/drafts/${draft.id}/rebase`, {
        revision: kept.revision,
        resolutions: [{ path: 'hosts/beta.nix', content: HOST('both') }],
      });
      assert.equal(rebased.status, 200, JSON.stringify(rebased.body));
      assert.equal(rebased.body.baseCommit, head);
      const committed = await call<CommitDraftResult>(
        'POST',
        `/api/v1/editor/drafts/${draft.id}/commit`,
        { revision: rebased.body.revision },
      );
      assert.equal(committed.status, 201, JSON.stringify(committed.body));
      assert.equal(committed.body.rebased, false);
      assert.equal(await remoteFile('hosts/beta.nix'), HOST('both').trimEnd());
    });

    it('settles a draft a stopped controller left pushing: recorded once if pushed, reopened if not', async () => {
      const { store } = fleet.services;
      const editor = fleet.services.editor;
      // Pushed before the stop: the commit is on the branch, the row still says pushing.
      const pushed = await newDraft({ 'hosts/alpha.nix': HOST('6') }, 'alpha 6');
      await push('hosts/alpha.nix', HOST('6'), 'alpha 6');
      const pushedCommit = await remoteHead();
      const at = fleet.clock.now().toISOString();
      const pending = { parent: pushedCommit, actor: 'admin', message: 'alpha 6', at };
      assert.ok(
        await store.drafts.markPushing(pushed.id, pushed.revision, {
          ...pending,
          commit: pushedCommit,
        }),
      );
      // Stopped before the push reached the remote.
      const lost = await newDraft({ 'hosts/beta.nix': HOST('7') }, 'beta 7');
      const never = 'f'.repeat(40);
      assert.ok(
        await store.drafts.markPushing(lost.id, lost.revision, { ...pending, commit: never }),
      );
      const committedBefore = (await audit('editor.committed')).length;
      await editor.start();
      await editor.stop();
      await editor.start();
      await editor.stop();
      assert.equal(await store.drafts.find(pushed.id), undefined, 'recorded as committed');
      const committed = await audit('editor.committed');
      assert.equal(committed.length, committedBefore + 1, 'once');
      assert.deepEqual(
        [
          (committed[0]?.data as { commit: string }).commit,
          (committed[0]?.data as { recovered: boolean }).recovered,
        ],
        [pushedCommit, true],
      );
      const reopened = (await call<Draft>('GET', `/api/v1/editor/drafts/${lost.id}`)).body;
      assert.equal(reopened.status, 'open');
      assert.equal(reopened.changes[0]?.content, HOST('7'), 'the edit is kept');
      const failed = await audit('editor.push_failed');
      assert.equal(failed.length, 1);
      assert.equal((failed[0]?.data as { commit: string }).commit, never);

      // Opening a draft left pushing settles it too (no start needed).
      const again = (await call<Draft>('GET', `/api/v1/editor/drafts/${lost.id}`)).body;
      assert.ok(
        await store.drafts.markPushing(lost.id, again.revision, {
          ...pending,
          commit: 'e'.repeat(40),
        }),
      );
      const opened = (await call<Draft>('GET', `/api/v1/editor/drafts/${lost.id}`)).body;
      assert.equal(opened.status, 'open');
      assert.equal((await audit('editor.push_failed')).length, 2);
    });
  });
}
