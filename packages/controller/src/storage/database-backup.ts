import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';

/** What a backup wrote. */
export interface BackupResult {
  /** The backup file, absolute. */
  file: string;
  /** Its size in bytes. */
  bytes: number;
}

/**
 * Copies the SQLite database at `databaseFile` to `target` with SQLite's online backup API,
 * so it may run while the controller writes (WAL mode: the copy is one consistent
 * snapshot, and the controller is never blocked for long). The copy is written next to
 * `target` under a temporary name, checked with `PRAGMA integrity_check`, made 0600 (it
 * holds the fleet's state, password and token hashes) and only then renamed into place: a
 * failed backup never leaves a partial file under the target's name.
 */
export async function backupSqliteDatabase(
  databaseFile: string,
  target: string,
): Promise<BackupResult> {
  const file = resolve(target);
  const temporary = join(dirname(file), `.${randomBytes(6).toString('hex')}.backup.tmp`);
  if (!existsSync(databaseFile)) throw new Error(`there is no database at ${databaseFile}`);
  const source = new SQLite(databaseFile, { readonly: true, fileMustExist: true });
  try {
    await source.backup(temporary);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  } finally {
    source.close();
  }
  try {
    await chmod(temporary, 0o600);
    const copy = new SQLite(temporary);
    let bytes: number;
    try {
      // The copy inherits WAL mode; a rollback journal keeps the backup one file.
      copy.pragma('journal_mode = DELETE');
      const verdict = copy.pragma('integrity_check', { simple: true });
      if (verdict !== 'ok')
        throw new Error(`the backup failed its integrity check: ${String(verdict)}`);
      const pages = copy.pragma('page_count', { simple: true }) as number;
      const pageSize = copy.pragma('page_size', { simple: true }) as number;
      bytes = pages * pageSize;
    } finally {
      copy.close();
    }
    await rename(temporary, file);
    return { file, bytes };
  } catch (error) {
    await Promise.all(
      ['', '-wal', '-shm', '-journal'].map((suffix) =>
        rm(`${temporary}${suffix}`, { force: true }),
      ),
    );
    throw error;
  }
}
