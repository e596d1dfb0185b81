import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processRunner } from '@flotilla/runtime';
import { blobId, GitObjects } from './git-objects.js';
import { GitClient } from './git.client.js';

const gitEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };

async function git(cwd: string, ...args: string[]): Promise<string> {
  const identity = ['-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@example.org'];
  const result = await processRunner.run('git', ['-C', cwd, ...identity, ...args], {
    env: gitEnv,
    captureStdout: true,
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

// Real git: a working clone commits into a bare repository, which the client reads and
// writes as it does the controller's mirror.
describe('GitObjects', () => {
  let root: string;
  let bare: string;
  let objects: GitObjects;
  let head: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'flotilla-git-objects-'));
    bare = join(root, 'mirror.git');
    const work = join(root, 'work');
    await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    await git(root, 'init', '--quiet', '--initial-branch=main', work);
    mkdirSync(join(work, 'hosts'));
    writeFileSync(join(work, 'flake.nix'), '{ outputs = _: { }; }\n');
    writeFileSync(join(work, 'hosts', 'a.nix'), '# Grüße aus Wien\n{ }\n');
    writeFileSync(join(work, 'latin1.txt'), Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x0a]));
    writeFileSync(join(work, 'image.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01]));
    await git(work, 'add', '--all');
    await git(work, 'commit', '--quiet', '-m', 'first');
    await git(work, 'push', '--quiet', bare, 'HEAD:refs/heads/main');
    head = await git(work, 'rev-parse', 'HEAD');
    const client = new GitClient({
      gitDir: bare,
      url: bare,
      origin: 'config',
      auth: {},
      baseEnv: gitEnv,
      helperDir: join(root, 'helper'),
    });
    objects = new GitObjects(client);
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('lists a tree recursively with directories, sizes and modes, and one directory alone', async () => {
    const all = await objects.listTree(head, '', { recursive: true, limit: 100 });
    assert.deepEqual(
      all?.entries.map((e) => [e.path, e.type, e.size]),
      [
        ['flake.nix', 'blob', 22],
        ['hosts', 'tree', null],
        ['hosts/a.nix', 'blob', 23],
        ['image.bin', 'blob', 4],
        ['latin1.txt', 'blob', 6],
      ],
    );
    const hosts = await objects.listTree(head, 'hosts', { recursive: false, limit: 100 });
    assert.deepEqual(
      hosts?.entries.map((e) => e.path),
      ['hosts/a.nix'],
    );
    const cut = await objects.listTree(head, '', { recursive: true, limit: 2 });
    assert.equal(cut?.truncated, true);
    assert.equal(cut?.entries.length, 2);
    assert.equal(await objects.listTree(head, 'nope', { recursive: true, limit: 10 }), undefined);
    assert.equal(
      await objects.listTree(head, 'flake.nix', { recursive: true, limit: 10 }),
      undefined,
    );
  });

  it('reads UTF-8 text exactly and refuses binary, other encodings and big files', async () => {
    const entry = await objects.entry(head, 'hosts/a.nix');
    assert.ok(entry);
    assert.deepEqual(await objects.readText(entry.oid, 1000), {
      ok: true,
      content: '# Grüße aus Wien\n{ }\n',
    });
    const latin1 = await objects.entry(head, 'latin1.txt');
    const binary = await objects.entry(head, 'image.bin');
    assert.ok(latin1 && binary);
    assert.deepEqual(await objects.readText(latin1.oid, 1000), {
      ok: false,
      reason: 'not_text',
      size: 6,
    });
    assert.deepEqual(await objects.readText(binary.oid, 1000), {
      ok: false,
      reason: 'not_text',
      size: 4,
    });
    assert.deepEqual(await objects.readText(entry.oid, 10), {
      ok: false,
      reason: 'too_large',
      size: 23,
    });
    assert.equal(await objects.entry(head, 'hosts/missing.nix'), undefined);
  });

  it('writes a blob, a tree with a file changed, added and removed, and a commit of it', async () => {
    const oid = await objects.writeBlob('{ version = "2"; }\n');
    assert.equal(oid, blobId('{ version = "2"; }\n'));
    const tree = await objects.buildTree(head, [
      { path: 'hosts/a.nix', blob: { oid, mode: '100644' } },
      { path: 'hosts/new dir/b.nix', blob: { oid, mode: '100755' } },
      { path: 'image.bin', blob: null },
    ]);
    const commit = await objects.commitTree({
      tree,
      parent: head,
      message: 'edit from the web',
      author: { name: 'markus', email: 'markus@flotilla.invalid' },
      committer: { name: 'Flotilla', email: 'flotilla@flotilla.invalid' },
      at: new Date('2026-03-02T10:00:00Z'),
    });
    const listing = await objects.listTree(commit, '', { recursive: true, limit: 100 });
    assert.deepEqual(
      listing?.entries.map((e) => [e.path, e.mode]),
      [
        ['flake.nix', '100644'],
        ['hosts', '040000'],
        ['hosts/a.nix', '100644'],
        ['hosts/new dir', '040000'],
        ['hosts/new dir/b.nix', '100755'],
        ['latin1.txt', '100644'],
      ],
    );
    assert.equal(
      await git(bare, 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%P|%s|%aI', commit),
      `markus <markus@flotilla.invalid>|Flotilla <flotilla@flotilla.invalid>|${head}|edit from the web|2026-03-02T10:00:00+00:00`,
    );
    assert.equal(await objects.treeOf(commit), tree);
  });

  it('merges a file three ways: clean when the changes do not overlap, markers when they do', async () => {
    const base = 'one\ntwo\nthree\nfour\nfive\n';
    const clean = await objects.mergeText({
      base,
      branch: 'ONE\ntwo\nthree\nfour\nfive\n',
      draft: 'one\ntwo\nthree\nfour\nFIVE\n',
    });
    assert.deepEqual(clean, { clean: true, merged: 'ONE\ntwo\nthree\nfour\nFIVE\n' });
    const overlapping = await objects.mergeText({
      base,
      branch: 'one\nTWO\nthree\nfour\nfive\n',
      draft: 'one\n2\nthree\nfour\nfive\n',
    });
    assert.equal(overlapping.clean, false);
    assert.match(overlapping.merged, /<<<<<<< branch\nTWO\n=======\n2\n>>>>>>> draft\n/);
  });
});
