import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processRunner } from '@flotilla/runtime';
import { GitObjects } from '../git/git-objects.js';
import { GitClient } from '../git/git.client.js';
import { applyDraft, candidateTree, type DraftFile } from './draft-apply.js';

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

const HOST = 'one\ntwo\nthree\nfour\nfive\nsix\n';

// Real git: the draft is made against `base`; the branch then moved to `head` with other
// people's changes. What applies cleanly, and what conflicts.
describe('applyDraft', () => {
  let root: string;
  let work: string;
  let objects: GitObjects;
  let base: string;
  let head: string;

  async function commit(files: Record<string, string | null>, message: string): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(work, path);
      if (content === null) rmSync(full, { recursive: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    await git(work, 'add', '--all');
    await git(work, 'commit', '--quiet', '-m', message);
    await git(work, 'push', '--quiet', join(root, 'mirror.git'), 'HEAD:refs/heads/main');
    return git(work, 'rev-parse', 'HEAD');
  }

  const blobAt = async (commit: string, path: string) =>
    (await objects.entry(commit, path))?.oid ?? null;
  const file = async (path: string, content: string | null): Promise<DraftFile> => ({
    path,
    content,
    baseBlob: await blobAt(base, path),
    baseMode: (await objects.entry(base, path))?.mode ?? null,
  });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'flotilla-draft-apply-'));
    work = join(root, 'work');
    await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', join(root, 'mirror.git'));
    await git(root, 'init', '--quiet', '--initial-branch=main', work);
    base = await commit(
      {
        'flake.nix': '{ }\n',
        'hosts/a.nix': HOST,
        'hosts/b.nix': HOST,
        'hosts/c.nix': HOST,
        'hosts/d.nix': HOST,
        'hosts/e.nix': HOST,
        'modules/x.nix': 'x\n',
      },
      'base',
    );
    head = await commit(
      {
        'hosts/a.nix': HOST.replace('one', 'ONE'), // far from the draft's change
        'hosts/b.nix': HOST.replace('three', 'THREE'), // the line the draft changes too
        'hosts/c.nix': HOST.replace('two', 'TWO'), // the draft deletes c
        'hosts/d.nix': null, // the draft changes d
        'hosts/e.nix': HOST.replace('six', 'SIX'), // the same change as the draft's
        'new.nix': 'theirs\n', // the draft adds new.nix too, differently
        'modules/x.nix': null,
        'modules/x.nix/inner.nix': 'now a directory\n',
      },
      'the branch moves on',
    );
    objects = new GitObjects(
      new GitClient({
        gitDir: join(root, 'mirror.git'),
        url: join(root, 'mirror.git'),
        origin: 'config',
        auth: {},
        baseEnv: gitEnv,
        helperDir: join(root, 'helper'),
      }),
    );
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('applies on its own base as it is', async () => {
    const files = [await file('hosts/a.nix', 'changed\n'), await file('fresh.nix', 'new\n')];
    const result = await applyDraft(objects, { baseCommit: base, headCommit: base, files });
    assert.ok(result.ok);
    assert.equal(result.rebased, false);
    const tree = await candidateTree(objects, base, result.files);
    assert.notEqual(tree, await objects.treeOf(base));
  });

  it('merges onto a moved branch when the changes do not overlap, or are the same', async () => {
    const files = [
      await file('hosts/a.nix', HOST.replace('six', 'SECHS')),
      await file('hosts/e.nix', HOST.replace('six', 'SIX')),
      await file('flake.nix', '{ description = "x"; }\n'),
    ];
    const result = await applyDraft(objects, { baseCommit: base, headCommit: head, files });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.rebased, true);
    const byPath = Object.fromEntries(result.files.map((f) => [f.path, f.content]));
    assert.equal(byPath['hosts/a.nix'], HOST.replace('one', 'ONE').replace('six', 'SECHS'));
    assert.equal(byPath['hosts/e.nix'], HOST.replace('six', 'SIX'));
    assert.equal(byPath['flake.nix'], '{ description = "x"; }\n');
  });

  it('lists every conflicting file with each version, and applies nothing', async () => {
    const files = [
      await file('hosts/a.nix', HOST.replace('six', 'SECHS')), // would merge
      await file('hosts/b.nix', HOST.replace('three', 'drei')),
      await file('hosts/c.nix', null),
      await file('hosts/d.nix', HOST.replace('four', 'vier')),
      await file('new.nix', 'mine\n'),
      await file('modules/x.nix', 'x changed\n'),
    ];
    const result = await applyDraft(objects, { baseCommit: base, headCommit: head, files });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.conflict.baseCommit, base);
    assert.equal(result.conflict.headCommit, head);
    const byPath = Object.fromEntries(result.conflict.files.map((f) => [f.path, f]));
    assert.deepEqual(
      result.conflict.files.map((f) => [f.path, f.reason]),
      [
        ['hosts/b.nix', 'both_modified'],
        ['hosts/c.nix', 'deleted_in_draft'],
        ['hosts/d.nix', 'deleted_on_branch'],
        ['new.nix', 'both_added'],
        ['modules/x.nix', 'path_in_use'],
      ],
    );
    const b = byPath['hosts/b.nix'];
    assert.equal(b?.base, HOST);
    assert.equal(b?.branch, HOST.replace('three', 'THREE'));
    assert.equal(b?.draft, HOST.replace('three', 'drei'));
    assert.match(b?.merged ?? '', /<<<<<<< branch\nTHREE\n=======\ndrei\n>>>>>>> draft/);
    assert.equal(byPath['hosts/c.nix']?.draft, null);
    assert.equal(byPath['hosts/c.nix']?.branch, HOST.replace('two', 'TWO'));
    assert.equal(byPath['hosts/d.nix']?.branch, null);
    assert.equal(byPath['new.nix']?.base, null);
    assert.equal(byPath['new.nix']?.branch, 'theirs\n');
  });

  it('takes a person’s resolution of a conflicting file', async () => {
    const files = [await file('hosts/b.nix', HOST.replace('three', 'drei'))];
    const resolved = HOST.replace('three', 'THREE / drei');
    const result = await applyDraft(objects, {
      baseCommit: base,
      headCommit: head,
      files,
      resolutions: new Map([['hosts/b.nix', resolved]]),
    });
    assert.ok(result.ok);
    assert.equal(result.files[0]?.content, resolved);
    assert.equal(result.files[0]?.target?.oid, await blobAt(head, 'hosts/b.nix'));
  });
});
