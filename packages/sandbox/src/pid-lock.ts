import { readFileSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createFileExclusive } from '@flotilla/runtime';

/** Tells whether the process a lock names still holds it. */
export type LockHolderCheck = (pid: number) => boolean;

export type PidLockResult =
  | {
      kind: 'acquired';
      lock: PidLock;
      /** The pid of a holder that was gone and whose lock was taken over; null if none. */
      tookOverFrom: number | null;
    }
  | { kind: 'held'; pid: number }
  | {
      /** Another process died while taking over a stale lock; only a human can tell it is safe. */
      kind: 'stuck';
      guardFile: string;
      /** The pid in the guard file; null when it holds none. */
      pid: number | null;
    };

export interface PidLockOptions {
  /** The pid written into the lock; this process's by default. */
  pid?: number;
  /** Whether a pid still runs (and is the kind of process that takes this lock). */
  isAlive?: LockHolderCheck;
  /** How long to wait for another process that is taking over a stale lock (ms). */
  waitMs?: number;
}

/**
 * A lock file holding the pid of the process that owns something (a demo's state directory).
 * It is created atomically (a hard link of a complete temp file), so of two processes exactly
 * one wins and nobody ever reads a half-written pid. A lock whose process is gone is taken
 * over; the takeover itself is guarded by a second lock file so that two processes finding
 * the same stale lock cannot both remove it and both believe they own it.
 */
export class PidLock {
  private constructor(
    readonly file: string,
    readonly pid: number,
  ) {}

  /** Takes the lock at `file`, or reports who holds it. */
  static async acquire(file: string, options: PidLockOptions = {}): Promise<PidLockResult> {
    const pid = options.pid ?? process.pid;
    const isAlive = options.isAlive ?? processExists;
    const guardFile = `${file}.takeover`;
    const deadline = Date.now() + (options.waitMs ?? 2_000);
    let tookOverFrom: number | null = null;
    for (;;) {
      if (await createFileExclusive(file, `${pid}\n`, 0o644)) {
        return { kind: 'acquired', lock: new PidLock(file, pid), tookOverFrom };
      }
      const holder = await readPid(file);
      if (holder === 'missing') continue; // Released in between: try again.
      // Our own pid in the lock can only be left from an earlier process (pids repeat).
      if (holder !== 'unreadable' && holder !== pid && isAlive(holder)) {
        return { kind: 'held', pid: holder };
      }
      if (await createFileExclusive(guardFile, `${pid}\n`, 0o644)) {
        try {
          // Still the same stale holder? Then nobody else replaced it meanwhile.
          if ((await readPid(file)) === holder) {
            await rm(file, { force: true });
            tookOverFrom = holder === 'unreadable' ? null : holder;
          }
        } finally {
          await rm(guardFile, { force: true });
        }
        continue;
      }
      const guardHolder = await readPid(guardFile);
      if (guardHolder === 'missing') continue; // That takeover just finished.
      const guardPid = guardHolder === 'unreadable' ? null : guardHolder;
      const guardAlive = guardPid !== null && guardPid !== pid && isAlive(guardPid);
      if (!guardAlive && (guardPid !== null || Date.now() > deadline)) {
        return { kind: 'stuck', guardFile, pid: guardPid };
      }
      if (guardAlive && Date.now() > deadline) return { kind: 'held', pid: guardPid };
      // Another process is taking over right now; it holds the guard for microseconds.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if ((await readPid(this.file)) === this.pid) await rm(this.file, { force: true });
  }

  /** {@link release} for `process.on('exit')`, where nothing asynchronous runs any more. */
  releaseSync(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    if (parsePid(text) === this.pid) rmSync(this.file, { force: true });
  }
}

/** True while a process with this pid exists (EPERM: it exists, but belongs to someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(file: string): Promise<number | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  return parsePid(text) ?? 'unreadable';
}

function parsePid(text: string): number | null {
  const value = text.trim();
  return /^[1-9][0-9]*$/.test(value) ? Number(value) : null;
}
