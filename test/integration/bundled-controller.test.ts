import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startController, type ControllerHandle } from '@flotilla/sandbox';

// The controller as its package installs it: dist/controller/flotilla-controller.mjs, a
// small entry that compiles the CommonJS program beside it with V8's code cache of an
// earlier start. The rest of the suite runs the compiled packages, so this file is what
// proves the shipped program starts, keeps and reuses its cache, and loads its native
// modules (argon2 for the first admin's password, better-sqlite3 for the state).
describe('the bundled controller and its code cache', { timeout: 120_000 }, () => {
  let dir: string;
  let controller: ControllerHandle | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-bundled-'));
    await mkdir(join(dir, 'cache'));
  });
  after(async () => {
    await controller?.process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (env: NodeJS.ProcessEnv) =>
    startController({ stateDir: join(dir, 'state'), bundled: true, env });
  const cacheFiles = async () =>
    (await readdir(join(dir, 'cache', 'flotilla'))).filter((name) => name.endsWith('.v8'));
  const api = async (handle: ControllerHandle, path: string) => {
    const response = await fetch(`${handle.url}${path}`, {
      headers: { authorization: `Bearer ${handle.adminToken}` },
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '' };
  };

  it('serves the API and the web UI, and writes its code cache privately when it stops', async () => {
    controller = await start({ XDG_CACHE_HOME: join(dir, 'cache') });
    assert.equal((await api(controller, '/healthz')).status, 200);
    assert.equal((await api(controller, '/api/v1/hosts')).status, 200);
    const page = await api(controller, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.equal(await controller.process.stop(), 0);
    controller = undefined;
    const files = await cacheFiles();
    assert.equal(files.length, 1, `one cache file: ${files.join(', ')}`);
    assert.match(files[0] ?? '', new RegExp(`^controller-[0-9a-f]{16}-${process.version}-`));
    assert.equal((await stat(join(dir, 'cache', 'flotilla'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'cache', 'flotilla', files[0] ?? ''))).mode & 0o777, 0o600);
  });

  it('starts again from that cache without writing it anew', async () => {
    const [file = ''] = await cacheFiles();
    const before = await stat(join(dir, 'cache', 'flotilla', file));
    controller = await start({ XDG_CACHE_HOME: join(dir, 'cache') });
    // The admin made at the first start still works: the state was reopened.
    assert.equal((await api(controller, '/api/v1/hosts')).status, 200);
    assert.equal(await controller.process.stop(), 0);
    controller = undefined;
    const after = await stat(join(dir, 'cache', 'flotilla', file));
    assert.equal(after.mtimeMs, before.mtimeMs, 'an accepted cache is not rewritten');
    assert.deepEqual(await cacheFiles(), [file]);
  });

  it('keeps no cache where its base folder does not exist, and never makes that folder', async () => {
    const missing = join(dir, 'no-such-home');
    controller = await start({ XDG_CACHE_HOME: missing, HOME: missing });
    assert.equal((await api(controller, '/healthz')).status, 200);
    assert.equal(await controller.process.stop(), 0);
    controller = undefined;
    assert.equal(existsSync(missing), false);
  });
});
