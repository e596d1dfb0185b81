import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileExclusive, readJsonFile, writeFileAtomic } from './atomic-file.js';

describe('atomic files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-atomic-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces a file whole, readable by its owner only, leaving no temp file', async () => {
    const file = join(dir, 'state.json');
    await writeFileAtomic(file, '{"a":1}');
    await writeFileAtomic(file, '{"a":2}');
    assert.deepEqual(await readJsonFile(file), { a: 2 });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['state.json']);
  });

  it('keeps concurrent writers from tearing the file', async () => {
    const file = join(dir, 'busy.json');
    const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(200_000) });
    await Promise.all(Array.from({ length: 20 }, (_, n) => writeFileAtomic(file, big(n))));
    const content = JSON.parse(await readFile(file, 'utf8')) as { n: number; pad: string };
    assert.equal(content.pad.length, 200_000);
  });

  it('creates a file exclusively: the first writer wins, the second learns it lost', async () => {
    const file = join(dir, 'claim.json');
    assert.equal(await createFileExclusive(file, '{"by":"runner"}'), true);
    assert.equal(await createFileExclusive(file, '{"by":"agent"}'), false);
    assert.deepEqual(await readJsonFile(file), { by: 'runner' });
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('reads a missing or broken JSON file as undefined', async () => {
    assert.equal(await readJsonFile(join(dir, 'missing.json')), undefined);
    await writeFileAtomic(join(dir, 'broken.json'), '{"half":');
    assert.equal(await readJsonFile(join(dir, 'broken.json')), undefined);
  });
});
