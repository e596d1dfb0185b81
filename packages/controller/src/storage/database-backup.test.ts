import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backupSqliteDatabase } from './database-backup.js';
import { openDatabase, type Db } from './database.js';
import { HostRepository } from './host.repository.js';

describe('backupSqliteDatabase', () => {
  let dir: string;
  let live: Db;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-backup-'));
    // A controller's database, open and written to while the backup runs.
    live = (await openDatabase({ url: join(dir, 'flotilla.db') })).db;
  });
  after(async () => {
    await live.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies a database in use into a private file that opens with every row', async () => {
    const hosts = new HostRepository(live);
    for (const name of ['gpc0', 'hsb1']) {
      await hosts.insert({
        name,
        mode: 'managed',
        os: 'linux',
        createdAt: new Date().toISOString(),
      });
    }
    const result = await backupSqliteDatabase(join(dir, 'flotilla.db'), join(dir, 'backup.db'));
    assert.equal(result.file, join(dir, 'backup.db'));
    assert.equal((await stat(result.file)).mode & 0o777, 0o600);
    assert.ok(result.bytes > 0);
    // One self-contained file: no journal, no temporary file left beside it.
    assert.deepEqual(
      (await readdir(dir)).filter((name) => !name.startsWith('flotilla.db')),
      ['backup.db'],
    );

    // Restored: the controller's own open (which migrates) finds the rows.
    const restored = (await openDatabase({ url: result.file })).db;
    try {
      assert.deepEqual(await new HostRepository(restored).allNames(), ['gpc0', 'hsb1']);
    } finally {
      await restored.destroy();
    }
  });

  it('leaves nothing behind when the database does not exist', async () => {
    await assert.rejects(backupSqliteDatabase(join(dir, 'nope.db'), join(dir, 'missing.db')));
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.includes('.tmp') || name.startsWith('missing')),
      [],
    );
  });
});
