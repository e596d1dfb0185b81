import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` so that a reader, or the agent after a crash or power loss, sees either
 * the old content or the new one, never a torn file: temp file, fsync, rename, fsync of
 * the directory (the rename itself is only durable once the directory is synced).
 * `durable: false` leaves out both fsyncs: still never torn for a reader or after a crash of
 * the process, but after a power loss the file may hold an older content.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  mode = 0o600,
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  const temp = await writeTemp(path, data, mode, durable);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (durable) await syncDirectory(dirname(path));
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically: a hard link of a
 * complete temp file either succeeds or fails with EEXIST, so a reader never sees the file
 * half-written and of two writers exactly one wins. Returns false when `path` existed.
 */
export async function createFileExclusive(
  path: string,
  data: string,
  mode = 0o600,
): Promise<boolean> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
  } catch (error) {
    if (isErrorCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
  await syncDirectory(dirname(path));
  return true;
}

/** Reads and parses a JSON file; undefined when it is missing, unreadable or not JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** True when `error` is a Node system error with the given code (ENOENT, EEXIST, …). */
export function isErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

async function writeTemp(path: string, data: string, mode: number, sync = true): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${randomUUID().slice(0, 8)}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename has still happened.
  } finally {
    await handle?.close();
  }
}
