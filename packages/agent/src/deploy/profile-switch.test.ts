import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lockProfile, switchProfile } from './profile-switch.js';

const GOOD = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-good';
const BAD = '/nix/store/1c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-bad';
const NEW = '/nix/store/2c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-new';
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const execNix = promisify(execFile);

describe('switchProfile', () => {
  let dir: string;
  let count = 0;
  /** A profile folder of its own with generation 1 (GOOD) and 2 (BAD, current). */
  const profileWithTwo = async () => {
    const profiles = join(dir, `profiles-${++count}`);
    await mkdir(profiles);
    await symlink(GOOD, join(profiles, 'system-1-link'));
    await symlink(BAD, join(profiles, 'system-2-link'));
    await symlink('system-2-link', join(profiles, 'system'));
    return join(profiles, 'system');
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-profile-switch-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('switches back to the generation that holds a system, and adds one for a new system', async () => {
    const profile = await profileWithTwo();
    const back = await switchProfile({ profile, storePath: GOOD, env });
    assert.deepEqual(back, {
      ok: true,
      generation: 1,
      previous: 2,
      created: false,
      link: `${profile}-1-link`,
    });
    assert.equal(await readlink(profile), 'system-1-link');

    const fresh = await switchProfile({ profile, storePath: NEW, env });
    assert.deepEqual(fresh, {
      ok: true,
      generation: 3,
      previous: 1,
      created: true,
      link: `${profile}-3-link`,
    });
    assert.equal(await readlink(`${profile}-3-link`), NEW);
    assert.equal(await readlink(profile), 'system-3-link');
    // Nothing is left beside the links, the lock file included (Nix removes it too).
    assert.deepEqual((await readdir(join(profile, '..'))).sort(), [
      'system',
      'system-1-link',
      'system-2-link',
      'system-3-link',
    ]);
  });

  it('starts a fresh profile at generation 1', async () => {
    const profiles = join(dir, 'fresh');
    await mkdir(profiles);
    const profile = join(profiles, 'system');
    const result = await switchProfile({ profile, storePath: GOOD, env });
    assert.equal(result.ok && result.generation, 1);
    assert.equal(result.ok && result.previous, null);
    assert.equal(await readlink(profile), 'system-1-link');
  });

  it('reads as Nix reads it: nix-env lists the generations and goes on from them', async () => {
    const profile = await profileWithTwo();
    await switchProfile({ profile, storePath: NEW, env });
    const listed = await execNix('nix-env', ['-p', profile, '--list-generations']);
    const lines = listed.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[2] ?? '', /^\s*3\s.*\(current\)$/);
    await execNix('nix-env', ['-p', profile, '--switch-generation', '1']);
    assert.equal(await readlink(profile), 'system-1-link');
  });

  it("waits for Nix's profile lock and gives up with a clear reason when it is held", async () => {
    const profile = await profileWithTwo();
    // What `nix-env` holds while it works: an exclusive flock on <profile>.lock.
    const holder = spawn(
      'flock',
      ['--exclusive', `${profile}.lock`, 'sh', '-c', 'echo held; read _'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      const [first] = (await once(holder.stdout, 'data')) as [Buffer];
      assert.equal(first.toString().trim(), 'held');
      const blocked = await switchProfile({ profile, storePath: GOOD, env, lockWaitSeconds: 1 });
      assert.deepEqual(blocked, {
        ok: false,
        reason: 'another process held the profile lock for over 1 s',
        unavailable: false,
      });
      assert.equal(await readlink(profile), 'system-2-link', 'untouched while locked');
    } finally {
      holder.stdin.end();
      await once(holder, 'exit');
    }
    const after = await switchProfile({ profile, storePath: GOOD, env, lockWaitSeconds: 1 });
    assert.equal(after.ok, true);
    assert.equal(await readlink(profile), 'system-1-link');
  });

  it('switches with a lock taken ahead, and lets it go', async () => {
    const profile = await profileWithTwo();
    const ahead = await lockProfile(profile, env);
    assert.equal(ahead.ok, true);
    if (!ahead.ok) return;
    const meanwhile = await lockProfile(profile, env, 1);
    assert.deepEqual(meanwhile, {
      ok: false,
      reason: 'another process held the profile lock for over 1 s',
      unavailable: false,
    });
    const switched = await switchProfile({ profile, storePath: GOOD, env, lock: ahead.lock });
    assert.equal(switched.ok, true);
    assert.equal(await readlink(profile), 'system-1-link');
    const after = await lockProfile(profile, env, 1);
    assert.equal(after.ok, true, 'released by the switch');
    if (after.ok) await after.lock.release();
  });

  it('is the lock nix-env takes: nix-env waits while it is held the same way', async () => {
    const profile = await profileWithTwo();
    const holder = spawn(
      'flock',
      ['--exclusive', `${profile}.lock`, 'sh', '-c', 'echo held; read _'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const [first] = (await once(holder.stdout, 'data')) as [Buffer];
    assert.equal(first.toString().trim(), 'held');
    const nixEnv = spawn('nix-env', ['-p', profile, '--switch-generation', '1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const waiting = new Promise<void>((resolve) =>
      nixEnv.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('waiting for lock')) resolve();
      }),
    );
    await waiting;
    assert.equal(await readlink(profile), 'system-2-link', 'nix-env waits for the holder');
    holder.stdin.end();
    const [code] = (await once(nixEnv, 'exit')) as [number];
    assert.equal(code, 0, stderr);
    assert.equal(await readlink(profile), 'system-1-link');
  });

  it('says when flock is missing, so the caller can fall back to nix-env', async () => {
    const profile = await profileWithTwo();
    const result = await switchProfile({
      profile,
      storePath: GOOD,
      env: { PATH: join(dir, 'no-such-folder') },
    });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.unavailable, true);
    assert.equal(await readlink(profile), 'system-2-link');
  });
});
