import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  AuditList,
  CommitDraftResult,
  Draft,
  ErrorBody,
  Repository,
} from '@flotilla/protocol';
import { GitHttpsServer, writeTestGitConfig } from '@flotilla/sandbox';
import { RepositoryFixture } from './repository-fixture.js';

const TOKEN = 'ghp_EditorWriteSecret_7e2a4c9b1d';

// Commits from the web editor pushed over https with the repository's token, as to GitHub:
// the token reaches git only through the credential helper, for the push as for fetches;
// a token without write access fails the push, keeps the draft and never shows the token.
describe('web editor commits over https with the repository token', { timeout: 300_000 }, () => {
  let fx: RepositoryFixture;
  let home: string;
  let writable: GitHttpsServer;
  let readOnly: GitHttpsServer;

  const basic = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
  const remoteHead = () => fx.github.git(fx.github.bare, ['rev-parse', 'refs/heads/main']);
  const link = async (url: string) => {
    const linked = await fx.api.request<Repository>('PUT', '/api/v1/repository', {
      url,
      token: TOKEN,
      pollIntervalSeconds: 3600,
    });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    const synced = await fx.api.post('/api/v1/repository/sync', {});
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
  };
  const draftWithReadme = async (content: string) => {
    const created = await fx.api.post<Draft>('/api/v1/editor/drafts', { message: 'docs' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const saved = await fx.api.request<Draft>(
      'PUT',
      `/api/v1/editor/drafts/${created.body.id}/files`,
      { op: 'write', path: 'README.md', content },
    );
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    return saved.body;
  };

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'flotilla-editor-https-home-'));
    await writeTestGitConfig(home);
    fx = await RepositoryFixture.start('editor-https', async () => ({}), { HOME: home });
    writable = await GitHttpsServer.start({ root: dirname(fx.github.bare), token: TOKEN });
    readOnly = await GitHttpsServer.start({
      root: dirname(fx.github.bare),
      token: TOKEN,
      readOnly: true,
    });
  });

  after(async () => {
    await writable?.close();
    await readOnly?.close();
    await fx?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('pushes the commit with the token', async () => {
    await link(writable.url('origin.git'));
    const draft = await draftWithReadme('# written in the browser\n');
    const committed = await fx.api.post<CommitDraftResult & { error: ErrorBody }>(
      `/api/v1/editor/drafts/${draft.id}/commit`,
      { revision: draft.revision },
    );
    assert.equal(committed.status, 201, JSON.stringify(committed.body));
    assert.equal(await remoteHead(), committed.body.commit);
    const pushes = writable.requests.filter((r) => r.push);
    assert.ok(pushes.length > 0, 'git pushed over https');
    assert.ok(
      pushes.some((r) => r.authorization === basic),
      'the push authenticated with the token',
    );
  });

  it('keeps the draft when the token may not write, and never shows the token', async () => {
    await link(readOnly.url('origin.git'));
    const head = await remoteHead();
    const draft = await draftWithReadme('# refused\n');
    const refused = await fx.api.post<{ error: ErrorBody }>(
      `/api/v1/editor/drafts/${draft.id}/commit`,
      { revision: draft.revision },
    );
    assert.equal(refused.status, 502, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'git_failed');
    assert.match(refused.body.error.message, /git push failed/);
    assert.ok(!refused.body.error.message.includes(TOKEN));
    assert.equal(await remoteHead(), head, 'nothing reached the remote');
    const kept = await fx.api.get<Draft>(`/api/v1/editor/drafts/${draft.id}`);
    assert.equal(kept.body.status, 'open', 'the draft is editable again');
    assert.equal(kept.body.changes[0]?.content, '# refused\n');
    const failed = await fx.api.get<AuditList>('/api/v1/audit?kind=editor.push_failed');
    assert.equal(failed.body.entries.length, 1);
    assert.ok(!JSON.stringify(failed.body).includes(TOKEN));
    assert.ok(!fx.controller.process.lines.join('\n').includes(TOKEN), 'nor in the log');
  });
});
