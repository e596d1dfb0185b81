import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PidLock, processExists, type PidLockResult } from './pid-lock.js';

function acquired(result: PidLockResult): PidLock {
  assert.equal(result.kind, 'acquired', JSON.stringify(result));
  if (result.kind !== 'acquired') throw new Error('unreachable');
  return result.lock;
}

/** The pid of a process that has exited, so no process has it (until the kernel reuses it). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(child.pid !== undefined && !processExists(child.pid));
  return child.pid;
}

describe('PidLock', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-pid-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the pid, refuses a second taker while it lives, and is released', async () => {
    const file = join(dir, 'live.lock');
    const lock = acquired(await PidLock.acquire(file));
    assert.equal(await readFile(file, 'utf8'), `${process.pid}\n`);
    const second = await PidLock.acquire(file, { pid: process.pid + 1 });
    assert.deepEqual(second, { kind: 'held', pid: process.pid });
    await lock.release();
    assert.deepEqual(await readdir(dir), []);
  });

  it('lets exactly one of many simultaneous takers win', async () => {
    const file = join(dir, 'race.lock');
    const pids = Array.from({ length: 12 }, (_, i) => 100_000 + i);
    const results = await Promise.all(
      pids.map((pid) => PidLock.acquire(file, { pid, isAlive: (p) => pids.includes(p) })),
    );
    const winners = results.filter((r) => r.kind === 'acquired');
    assert.equal(winners.length, 1);
    const holder = Number((await readFile(file, 'utf8')).trim());
    assert.ok(
      results.every((r) => r.kind === 'acquired' || (r.kind === 'held' && r.pid === holder)),
    );
    await rm(file);
  });

  it('takes over a lock whose process is gone, and says whose it was', async () => {
    const file = join(dir, 'stale.lock');
    const gone = await deadPid();
    await writeFile(file, `${gone}\n`);
    const result = await PidLock.acquire(file);
    const lock = acquired(result);
    assert.equal(result.kind === 'acquired' && result.tookOverFrom, gone);
    assert.equal(await readFile(file, 'utf8'), `${process.pid}\n`);
    await lock.release();
  });

  it('lets one of several takers of the same stale lock win', async () => {
    const file = join(dir, 'stale-race.lock');
    await writeFile(file, '424242\n');
    const takers = Array.from({ length: 8 }, (_, i) => 200_000 + i);
    const isAlive = (pid: number) => takers.includes(pid);
    const results = await Promise.all(takers.map((pid) => PidLock.acquire(file, { pid, isAlive })));
    assert.equal(results.filter((r) => r.kind === 'acquired').length, 1, JSON.stringify(results));
    assert.deepEqual(await readdir(dir), ['stale-race.lock'], 'no guard or temp file is left');
    await rm(file);
  });

  it('treats its own pid and an unreadable pid as stale', async () => {
    const file = join(dir, 'own.lock');
    await writeFile(file, `${process.pid}\n`);
    acquired(await PidLock.acquire(file));
    await writeFile(file, 'not a pid\n');
    const result = await PidLock.acquire(file);
    assert.equal(result.kind === 'acquired' && result.tookOverFrom, null);
    await rm(file);
  });

  it('reports a takeover left unfinished by a process that died, instead of guessing', async () => {
    const file = join(dir, 'stuck.lock');
    const gone = await deadPid();
    await writeFile(file, `${gone}\n`);
    await writeFile(`${file}.takeover`, `${gone}\n`);
    const result = await PidLock.acquire(file);
    assert.deepEqual(result, { kind: 'stuck', guardFile: `${file}.takeover`, pid: gone });
    assert.equal(await readFile(file, 'utf8'), `${gone}\n`, 'the lock is left alone');
    await rm(file);
    await rm(`${file}.takeover`);
  });

  it('releases only a lock that is still its own', async () => {
    const file = join(dir, 'replaced.lock');
    const lock = acquired(await PidLock.acquire(file));
    await writeFile(file, '777\n');
    await lock.release();
    lock.releaseSync();
    assert.equal(await readFile(file, 'utf8'), '777\n');
    await writeFile(file, `${process.pid}\n`);
    lock.releaseSync();
    assert.deepEqual(await readdir(dir), []);
  });
});
