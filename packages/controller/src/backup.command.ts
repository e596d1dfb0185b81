import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { backupSqliteDatabase } from './storage/database-backup.js';

export const BACKUP_USAGE = `usage: flotilla-controller backup --to FILE [--config FILE] [--state-dir DIR]

Copies the controller's SQLite database to FILE while the controller runs (SQLite's online
backup), checks the copy's integrity and makes it 0600. It reads the same config as the
controller (file, environment, flags) to find the database. For PostgreSQL use pg_dump.
The state directory's signing key and cache are files: back them up as such
(docs/OPERATIONS.md).`;

/**
 * `flotilla-controller backup`: the database as one consistent file. Returns the exit
 * code: 0 written, 1 failed, 2 a usage or config problem.
 */
export async function runBackup(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { value: target, rest } = takeOption(argv, '--to');
  if (target === undefined) {
    process.stderr.write(`flotilla-controller backup: --to FILE is required\n\n${BACKUP_USAGE}\n`);
    return 2;
  }
  let url: string;
  try {
    const config = loadConfig(rest, env);
    url = config.databaseUrl ?? join(config.stateDir, 'flotilla.db');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`flotilla-controller backup: ${error.message}\n`);
    return 2;
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    process.stderr.write(
      'flotilla-controller backup: the database is PostgreSQL; back it up with pg_dump ' +
        '(see docs/OPERATIONS.md)\n',
    );
    return 2;
  }
  try {
    const result = await backupSqliteDatabase(url.replace(/^sqlite:/, ''), target);
    process.stdout.write(`wrote ${result.file} (${result.bytes} bytes, integrity ok)\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`flotilla-controller backup: ${(error as Error).message}\n`);
    return 1;
  }
}

/**
 * The value of `name VALUE` or `name=VALUE` (the last one given), and the other arguments,
 * which are the controller's own config flags.
 */
function takeOption(
  argv: readonly string[],
  name: string,
): { value: string | undefined; rest: string[] } {
  let value: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === name) value = argv[++i];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    else rest.push(arg);
  }
  return { value: value === '' ? undefined : value, rest };
}
