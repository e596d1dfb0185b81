import { readdir, readFile } from 'node:fs/promises';

/**
 * A process as it can be recognised again later, also from another process: a pid alone
 * is not enough, since pids are reused (most of all after a reboot).
 */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); null where /proc is missing. */
  startTime: string | null;
  /** The kernel's boot id when the process ran; null where /proc is missing. */
  bootId: string | null;
}

/** The kernel's own boot id; process lifetimes are tied to it, whatever the facts report. */
const KERNEL_BOOT_ID = '/proc/sys/kernel/random/boot_id';

/**
 * The start time field of a /proc/<pid>/stat line. The command name (field 2) is in
 * parentheses and may itself contain spaces and parentheses, so fields are counted from
 * the last ")".
 */
export function parseStatStartTime(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // After ")" come fields 3, 4, …; the start time is field 22.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const value = fields[22 - 3];
  return value !== undefined && /^\d+$/.test(value) ? value : null;
}

/** The identity of a running process (this one by default). */
export async function processIdentity(pid = process.pid): Promise<ProcessIdentity> {
  const [stat, bootId] = await Promise.all([
    readText(`/proc/${pid}/stat`),
    readText(KERNEL_BOOT_ID),
  ]);
  return {
    pid,
    startTime: stat === null ? null : parseStatStartTime(stat),
    bootId: bootId?.trim() || null,
  };
}

/** True while the process described by `identity` (and not a later one with its pid) runs. */
export async function isProcessAlive(identity: ProcessIdentity): Promise<boolean> {
  if (!signalReaches(identity.pid)) return false;
  const now = await processIdentity(identity.pid);
  if (identity.bootId !== null && now.bootId !== null && identity.bootId !== now.bootId) {
    return false;
  }
  if (identity.startTime !== null && now.startTime !== null) {
    return identity.startTime === now.startTime;
  }
  return true;
}

/**
 * True while any process of the group led by the process `identity` describes exists
 * (in the same boot). A group id is not handed out as a pid while the group has members,
 * so within a boot this cannot be fooled by pid reuse.
 */
export async function isProcessGroupAlive(identity: ProcessIdentity): Promise<boolean> {
  if (!signalReaches(-identity.pid)) return false;
  const bootId = (await readText(KERNEL_BOOT_ID))?.trim() || null;
  return identity.bootId === null || bootId === null || identity.bootId === bootId;
}

/**
 * True when some process runs with `args` among its arguments, one right after the other
 * (its /proc/<pid>/cmdline). False when none does, and where there is no /proc to tell.
 * Reads every process's command line: for rare questions only.
 */
export async function isRunningWithArguments(args: readonly string[]): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return false;
  }
  // Arguments are NUL-terminated in cmdline; a zombie's is empty.
  const needle = `\0${args.join('\0')}\0`;
  const lines = await Promise.all(
    names.filter((n) => /^\d+$/.test(n)).map((pid) => readText(`/proc/${pid}/cmdline`)),
  );
  return lines.some((line) => line !== null && `\0${line}`.includes(needle));
}

function signalReaches(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}
