import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet } from './service-fixture.js';

// The web UI's files as the controller serves them, from a built app made here. One engine
// is enough: nothing below touches the database.
const [engine] = testDatabases();

const INDEX = '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>';

describe('the web UI served at /', { timeout: 60_000 }, () => {
  let dir: string;
  const databases: EmptyDatabase[] = [];
  const fleets: ServiceFleet[] = [];
  let fleet: ServiceFleet;

  const start = async (webDir: string) => {
    assert.ok(engine);
    const database = await engine.create();
    databases.push(database);
    const started = await ServiceFleet.start(database, { config: { webDir } });
    fleets.push(started);
    return started;
  };
  const get = (url: string, on: ServiceFleet = fleet) =>
    on.controller.app.inject({ method: 'GET', url });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-web-app-'));
    await mkdir(join(dir, 'app', 'assets'), { recursive: true });
    await writeFile(join(dir, 'app', 'index.html'), INDEX);
    await writeFile(join(dir, 'app', 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'app', 'assets', 'notes.txt'), 'not an app file type');
    fleet = await start(join(dir, 'app'));
  });
  after(async () => {
    for (const f of fleets) await f.stop();
    for (const d of databases) await d.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers / and every app page with index.html, never cached, under the strict CSP', async () => {
    for (const url of ['/', '/hosts/web1', '/approvals', '/editor/hosts/web1.nix', '/login']) {
      const response = await get(url);
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, INDEX, url);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.match(String(response.headers['content-security-policy']), /script-src 'self';/);
      assert.doesNotMatch(String(response.headers['content-security-policy']), /unsafe-inline/);
    }
  });

  it('answers hashed assets with a year of caching, and nothing else', async () => {
    const asset = await get('/assets/index-abc123.js');
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, 'console.log(1)');
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    for (const url of [
      '/assets/missing-1.js',
      '/assets/notes.txt',
      '/assets/..%2Findex.html',
      '/assets/.hidden.js',
    ]) {
      const response = await get(url);
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.headers['cache-control'], 'no-store', url);
    }
  });

  it('leaves paths outside the app pages unmatched: 404, not the app', async () => {
    for (const url of ['/api/v1/nothing-here', '/api', '/cache/a/b', '/nothing', '/hostsx']) {
      const response = await get(url);
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json<{ error: { code: string } }>().error.code, 'not_found', url);
    }
  });

  it('says to run npm run build when the app is not built', async () => {
    const unbuilt = await start(join(dir, 'missing'));
    const response = await get('/', unbuilt);
    assert.equal(response.statusCode, 503);
    assert.match(response.body, /npm run build/);
    assert.doesNotMatch(response.body, /<script|<style|style=/);
  });
});
