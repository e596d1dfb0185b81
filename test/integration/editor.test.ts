import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  BuildList,
  CommitDraftResult,
  Draft,
  DraftCheck,
  DraftConflict,
  EditorFile,
  EditorTree,
  ErrorBody,
  ReleaseList,
  RevisionList,
} from '@flotilla/protocol';
import { GitFlakeRepo, hostNix, JsonClient, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

const HOSTS = [
  { name: 'alpha', version: '1' },
  { name: 'beta', version: '1' },
  { name: 'gamma', version: '1' },
];

// The web editor against a real controller process, real Nix and a bare repository
// standing in for GitHub: browse, a draft that outlives a crash of the controller, checks
// that evaluate for real, commits that land on the remote and go through the pipeline.
describe('web editor: from a draft to a pushed commit', { timeout: 420_000 }, () => {
  let fleet: FleetFixture;
  let github: GitFlakeRepo;

  type Answer<T> = { status: number; body: T & { error: ErrorBody } };
  const call = <T>(method: string, path: string, body?: unknown, api = fleet.api) =>
    api.request<T & { error: ErrorBody }>(method, path, body) as Promise<Answer<T>>;
  const remoteHead = () => github.git(github.bare, ['rev-parse', 'refs/heads/main']);
  const remoteFile = (path: string) => github.git(github.bare, ['show', `main:${path}`]);
  /** Someone else pushes to the branch from a clone brought up to date first. */
  const pushElsewhere = async (path: string, content: string, message: string) => {
    await github.git(github.work, ['pull', '--quiet', '--ff-only', 'origin', 'main']);
    await writeFile(join(github.work, path), content);
    await github.commit(message);
    await github.push();
    return remoteHead();
  };
  const newDraft = async (edits: Record<string, string>, message = 'quick fix') => {
    const created = await call<Draft>('POST', '/api/v1/editor/drafts', { message });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    let revision = created.body.revision;
    for (const [path, content] of Object.entries(edits)) {
      const saved = await call<Draft>('PUT', `/api/v1/editor/drafts/${created.body.id}/files`, {
        op: 'write',
        path,
        content,
        revision,
      });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      revision = saved.body.revision;
    }
    return { id: created.body.id, revision };
  };
  /** The branch revision of `sha` once evaluated, and every build it queued ended. */
  const settledRevision = (sha: string) =>
    JsonClient.until(
      async () => {
        const revisions = (await call<RevisionList>('GET', '/api/v1/revisions?kind=branch')).body;
        const revision = revisions.revisions.find((r) => r.sha === sha);
        if (revision === undefined || ['pending', 'evaluating'].includes(revision.status)) {
          return undefined;
        }
        const builds = (await call<BuildList>('GET', '/api/v1/builds?limit=500')).body.builds;
        const own = builds.filter((b) => b.revisionId === revision.id);
        return own.some((b) => b.status === 'queued' || b.status === 'running')
          ? undefined
          : { revision, builds: own };
      },
      `the revision of ${sha} to be evaluated and built`,
      120_000,
    );

  before(async () => {
    fleet = await FleetFixture.start('editor', {
      config: async (dir) => {
        github = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(github.work, HOSTS);
        await writeFile(join(github.work, 'README.md'), '# fleet\n');
        await github.commit('initial fleet');
        await github.push();
        return { repository: { url: github.bare, branch: 'main', pollIntervalSeconds: 3600 } };
      },
    });
    await settledRevision(await remoteHead());
  });

  after(async () => {
    await fleet?.stop();
  });

  it('browses the tracked branch: its tree and a file', async () => {
    const tree = await call<EditorTree>('GET', '/api/v1/editor/tree');
    assert.equal(tree.status, 200, JSON.stringify(tree.body));
    assert.equal(tree.body.commit, await remoteHead());
    const paths = tree.body.entries.map((e) => e.path);
    for (const path of ['flake.nix', 'hosts', 'hosts/alpha.nix', 'README.md']) {
      assert.ok(paths.includes(path), `${path} is listed`);
    }
    const file = await call<EditorFile>('GET', '/api/v1/editor/file?path=hosts/beta.nix');
    assert.equal(file.body.content, hostNix({ name: 'beta', version: '1' }));
  });

  it('keeps a saved draft through a crash of the controller', async () => {
    const draft = await newDraft({ 'README.md': '# fleet\n\nsaved before the crash\n' });
    await fleet.crashAndRestartController();
    const found = await call<Draft>('GET', `/api/v1/editor/drafts/${draft.id}`);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.revision, draft.revision);
    assert.deepEqual(
      found.body.changes.map((c) => [c.path, c.content]),
      [['README.md', '# fleet\n\nsaved before the crash\n']],
    );
    assert.equal((await call('DELETE', `/api/v1/editor/drafts/${draft.id}`)).status, 200);
  });

  it('reports a syntax error with file:line, and pushes nothing', async () => {
    const head = await remoteHead();
    // Line 4 is where Nix finds the missing `;`.
    const draft = await newDraft({ 'hosts/gamma.nix': '{\n  version = "2";\n  exitCode = 0\n}\n' });
    const check = await call<DraftCheck>('POST', `/api/v1/editor/drafts/${draft.id}/check`, {});
    assert.equal(check.status, 200, JSON.stringify(check.body));
    assert.equal(check.body.ok, false);
    const gamma = check.body.hosts.find((h) => h.host === 'gamma');
    assert.equal(gamma?.status, 'error');
    assert.equal(gamma.error?.location?.file, 'hosts/gamma.nix');
    assert.equal(gamma.error.location.line, 4);
    assert.match(gamma.error.message, /^syntax error/);
    assert.deepEqual(
      check.body.hosts.filter((h) => h.host !== 'gamma').map((h) => [h.host, h.status]),
      [
        ['alpha', 'unchanged'],
        ['beta', 'unchanged'],
      ],
    );
    const commit = await call('POST', `/api/v1/editor/drafts/${draft.id}/commit`, {
      revision: draft.revision,
      message: 'gamma: broken',
    });
    assert.deepEqual([commit.status, commit.body.error.code], [422, 'draft_check_failed']);
    assert.equal(await remoteHead(), head, 'nothing was pushed');
    await call('DELETE', `/api/v1/editor/drafts/${draft.id}`);
  });

  it('shows which hosts a good edit rebuilds, commits it as the user, and the pipeline builds it', async () => {
    const parent = await remoteHead();
    const draft = await newDraft({ 'hosts/beta.nix': hostNix({ name: 'beta', version: '2' }) });
    const check = await call<DraftCheck>('POST', `/api/v1/editor/drafts/${draft.id}/check`, {
      revision: draft.revision,
    });
    assert.equal(check.body.ok, true, check.body.summary);
    assert.deepEqual(
      check.body.hosts.map((h) => [h.host, h.status]),
      [
        ['alpha', 'unchanged'],
        ['beta', 'rebuild'],
        ['gamma', 'unchanged'],
      ],
    );
    const beta = check.body.hosts.find((h) => h.host === 'beta');
    assert.match(beta?.draftDrvPath ?? '', /^\/nix\/store\/[a-z0-9]{32}-nixos-system-beta-2\.drv$/);
    assert.equal(check.body.summary, 'rebuilds 1 of 3 hosts');

    const committed = await call<CommitDraftResult>(
      'POST',
      `/api/v1/editor/drafts/${draft.id}/commit`,
      { revision: draft.revision, message: 'beta: version 2' },
    );
    assert.equal(committed.status, 201, JSON.stringify(committed.body));
    assert.equal(await remoteHead(), committed.body.commit, 'the commit is on the remote');
    assert.equal(
      await github.git(github.bare, ['log', '-1', '--format=%an <%ae>|%cn|%P|%s', 'main']),
      `admin <admin@flotilla.invalid>|Flotilla|${parent}|beta: version 2`,
    );
    const { revision, builds } = await settledRevision(committed.body.commit);
    assert.equal(revision.status, 'evaluated');
    assert.deepEqual(
      builds.map((b) => [b.host, b.status, b.drvPath]),
      [['beta', 'succeeded', beta?.draftDrvPath]],
      'the pipeline built exactly the host the check named',
    );
    const releases = (await call<ReleaseList>('GET', '/api/v1/releases?host=beta')).body.releases;
    assert.equal(releases[0]?.revisionId, revision.id);
    assert.equal(releases[0]?.commitAuthor, 'admin <admin@flotilla.invalid>');
  });

  it('merges onto a branch that moved with another change, and pushes', async () => {
    const draft = await newDraft({ 'hosts/alpha.nix': hostNix({ name: 'alpha', version: '2' }) });
    const moved = await pushElsewhere('README.md', '# fleet\n\nedited elsewhere\n', 'docs');
    const committed = await call<CommitDraftResult>(
      'POST',
      `/api/v1/editor/drafts/${draft.id}/commit`,
      { revision: draft.revision, message: 'alpha: version 2' },
    );
    assert.equal(committed.status, 201, JSON.stringify(committed.body));
    assert.equal(committed.body.rebased, true);
    assert.equal(committed.body.parent, moved);
    assert.equal(await remoteHead(), committed.body.commit);
    assert.equal(await remoteFile('README.md'), '# fleet\n\nedited elsewhere');
    assert.equal(
      await remoteFile('hosts/alpha.nix'),
      hostNix({ name: 'alpha', version: '2' }).trimEnd(),
    );
  });

  it('answers a conflicting change with draft_conflict and keeps the draft', async () => {
    const mine = hostNix({ name: 'gamma', version: 'mine' });
    const draft = await newDraft({ 'hosts/gamma.nix': mine });
    const theirs = hostNix({ name: 'gamma', version: 'theirs' });
    const head = await pushElsewhere('hosts/gamma.nix', theirs, 'gamma: theirs');
    const refused = await call<unknown>('POST', `/api/v1/editor/drafts/${draft.id}/commit`, {
      revision: draft.revision,
      message: 'gamma: mine',
    });
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'draft_conflict']);
    const conflict = refused.body.error.details as DraftConflict;
    assert.deepEqual(
      conflict.files.map((f) => [f.path, f.branch, f.draft]),
      [['hosts/gamma.nix', theirs, mine]],
    );
    assert.equal(await remoteHead(), head, 'nothing was pushed');
    const kept = await call<Draft>('GET', `/api/v1/editor/drafts/${draft.id}`);
    assert.equal(kept.body.status, 'open');
    assert.equal(kept.body.changes[0]?.content, mine);
  });

  it('refuses the editor to a non-admin', async () => {
    const made = await call('POST', '/api/v1/users', {
      username: 'olga',
      role: 'operator',
      password: 'olga-password-1',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const login = await call<{ token: string }>('POST', '/api/v1/auth/token', {
      username: 'olga',
      password: 'olga-password-1',
      name: 'editor-test',
    });
    const operator = new JsonClient(fleet.controller.url, login.body.token);
    for (const [method, path, body] of [
      ['GET', '/api/v1/editor/tree', undefined],
      ['GET', '/api/v1/editor/file?path=flake.nix', undefined],
      ['POST', '/api/v1/editor/drafts', {}],
      ['POST', '/api/v1/editor/drafts/any/commit', { revision: 1 }],
    ] as const) {
      const answer = await call(method, path, body, operator);
      assert.deepEqual([answer.status, answer.body.error.code], [403, 'forbidden'], path);
    }
  });
});
