import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  contextFilePath,
  readContexts,
  removeContext,
  resolveConnection,
  useContext,
  writeContext,
} from './context.js';
import { CliError } from './errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  return assert.rejects(
    promise,
    (error: unknown) => error instanceof CliError && error.code === code,
  );
}

describe('contextFilePath', () => {
  it('prefers FLOTILLA_CONTEXT_FILE, then XDG_CONFIG_HOME, then HOME', () => {
    assert.equal(contextFilePath({ FLOTILLA_CONTEXT_FILE: '/x/c.json' }, '/home/u'), '/x/c.json');
    assert.equal(
      contextFilePath({ XDG_CONFIG_HOME: '/cfg' }, '/home/u'),
      '/cfg/flotilla/contexts.json',
    );
    assert.equal(contextFilePath({ HOME: '/h' }, '/home/u'), '/h/.config/flotilla/contexts.json');
    assert.equal(
      contextFilePath({ XDG_CONFIG_HOME: '' }, '/home/u'),
      '/home/u/.config/flotilla/contexts.json',
    );
  });
});

describe('readContexts', () => {
  it('reads a missing file as empty', async () => {
    assert.deepEqual(await readContexts(join(dir, 'none.json')), { current: null, contexts: {} });
  });

  it('names the file and the problem when malformed', async () => {
    const file = join(dir, 'contexts.json');
    await writeFile(file, '{ not json');
    await rejectsWithCode(readContexts(file), 'invalid_context_file');
    await writeFile(file, JSON.stringify({ contexts: { demo: { url: 'ftp://x', token: 't' } } }));
    await assert.rejects(readContexts(file), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.match(error.message, /contexts\.json is malformed: contexts\.demo\.url/);
      return true;
    });
  });
});

describe('writeContext', () => {
  it('creates the directories and a file only the owner can read', async () => {
    const file = join(dir, 'a', 'b', 'contexts.json');
    await writeContext(file, 'demo', { url: 'http://127.0.0.1:8080', token: 'secret' });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
      current: 'demo',
      contexts: { demo: { url: 'http://127.0.0.1:8080', token: 'secret' } },
    });
  });

  it('keeps other contexts and moves current only when asked', async () => {
    const file = join(dir, 'contexts.json');
    await writeContext(file, 'demo', { url: 'http://a:1', token: 'ta' });
    await writeContext(file, 'prod', { url: 'http://b:2', token: 'tb' });
    let contexts = await readContexts(file);
    assert.equal(contexts.current, 'demo');
    assert.deepEqual(Object.keys(contexts.contexts).sort(), ['demo', 'prod']);
    await writeContext(file, 'prod', { url: 'http://b:3', token: 'tb2' }, { makeCurrent: true });
    contexts = await readContexts(file);
    assert.equal(contexts.current, 'prod');
    assert.deepEqual(contexts.contexts.prod, { url: 'http://b:3', token: 'tb2' });
    assert.deepEqual(contexts.contexts.demo, { url: 'http://a:1', token: 'ta' });
  });

  it('refuses to overwrite a malformed file or write a bad entry', async () => {
    const file = join(dir, 'contexts.json');
    await writeFile(file, '[]');
    await rejectsWithCode(
      writeContext(file, 'demo', { url: 'http://a', token: 't' }),
      'invalid_context_file',
    );
    assert.equal(await readFile(file, 'utf8'), '[]');
    const other = join(dir, 'other.json');
    await rejectsWithCode(
      writeContext(other, 'demo', { url: 'nope', token: 't' }),
      'invalid_context_file',
    );
  });
});

describe('useContext and removeContext', () => {
  async function twoContexts(): Promise<string> {
    const file = join(dir, 'contexts.json');
    await writeContext(file, 'demo', { url: 'http://a:1', token: 'ta' });
    await writeContext(file, 'prod', { url: 'http://b:2' });
    return file;
  }

  it('switches the current context and keeps every entry', async () => {
    const file = await twoContexts();
    const next = await useContext(file, 'prod');
    assert.equal(next.current, 'prod');
    assert.deepEqual(await readContexts(file), next);
    assert.deepEqual(next.contexts.prod, { url: 'http://b:2' });
  });

  it('removes a context; removing the current one leaves none current', async () => {
    const file = await twoContexts();
    assert.deepEqual(await removeContext(file, 'prod'), {
      current: 'demo',
      contexts: { demo: { url: 'http://a:1', token: 'ta' } },
    });
    assert.deepEqual(await removeContext(file, 'demo'), { current: null, contexts: {} });
    assert.deepEqual(await readContexts(file), { current: null, contexts: {} });
  });

  it('refuses names the file does not hold, inherited properties too', async () => {
    const file = await twoContexts();
    await rejectsWithCode(useContext(file, 'staging'), 'context_not_found');
    await rejectsWithCode(useContext(file, 'toString'), 'context_not_found');
    await rejectsWithCode(removeContext(file, 'staging'), 'context_not_found');
    assert.equal((await readContexts(file)).current, 'demo');
  });

  it('makes a file others could read private again and leaves no temporary file', async () => {
    const file = await twoContexts();
    await chmod(file, 0o644);
    await useContext(file, 'prod');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['contexts.json']);
  });
});

describe('resolveConnection', () => {
  async function withFile(): Promise<string> {
    const file = join(dir, 'contexts.json');
    await writeContext(file, 'demo', { url: 'http://demo:8080', token: 'demo-token' });
    await writeContext(file, 'prod', { url: 'http://prod:8080', token: 'prod-token' });
    return file;
  }

  it('takes flags over the environment over the file', async () => {
    const file = await withFile();
    const env = {
      FLOTILLA_CONTEXT_FILE: file,
      FLOTILLA_URL: 'http://demo:8080',
      FLOTILLA_TOKEN: 'env',
    };
    assert.deepEqual(await resolveConnection({ token: 'flag' }, env, dir), {
      url: 'http://demo:8080',
      token: 'flag',
    });
    assert.deepEqual(await resolveConnection({}, env, dir), {
      url: 'http://demo:8080',
      token: 'env',
    });
    assert.deepEqual(await resolveConnection({}, { FLOTILLA_CONTEXT_FILE: file }, dir), {
      url: 'http://demo:8080',
      token: 'demo-token',
    });
  });

  it('lets a named context win over the environment, not over flags', async () => {
    const file = await withFile();
    const env = {
      FLOTILLA_CONTEXT_FILE: file,
      FLOTILLA_URL: 'http://env:1',
      FLOTILLA_TOKEN: 'env',
    };
    assert.deepEqual(await resolveConnection({ context: 'prod' }, env, dir), {
      url: 'http://prod:8080',
      token: 'prod-token',
    });
    assert.deepEqual(await resolveConnection({ context: 'prod', token: 'flag' }, env, dir), {
      url: 'http://prod:8080',
      token: 'flag',
    });
  });

  it("never pairs one controller's URL with another's token", async () => {
    const file = await withFile();
    const env = { FLOTILLA_CONTEXT_FILE: file, FLOTILLA_URL: 'http://elsewhere:1' };
    assert.deepEqual(await resolveConnection({}, env, dir), {
      url: 'http://elsewhere:1',
      token: undefined,
    });
  });

  it('does not read the file when flags and environment suffice', async () => {
    const file = join(dir, 'contexts.json');
    await writeFile(file, 'garbage');
    const env = { FLOTILLA_CONTEXT_FILE: file, FLOTILLA_TOKEN: 't' };
    assert.deepEqual(await resolveConnection({ url: 'http://x:1' }, env, dir), {
      url: 'http://x:1',
      token: 't',
    });
    await rejectsWithCode(resolveConnection({}, env, dir), 'invalid_context_file');
  });

  it('takes the URL of a context that stores no token, and no token', async () => {
    const file = join(dir, 'contexts.json');
    await writeContext(file, 'open', { url: 'http://open:1' });
    assert.deepEqual(await resolveConnection({}, { FLOTILLA_CONTEXT_FILE: file }, dir), {
      url: 'http://open:1',
      token: undefined,
    });
  });

  it('explains what is missing', async () => {
    const file = await withFile();
    await rejectsWithCode(
      resolveConnection({}, { FLOTILLA_CONTEXT_FILE: join(dir, 'none') }, dir),
      'not_configured',
    );
    await rejectsWithCode(
      resolveConnection({ context: 'staging' }, { FLOTILLA_CONTEXT_FILE: file }, dir),
      'context_not_found',
    );
    await rejectsWithCode(
      resolveConnection({ url: 'localhost:8080', token: 't' }, {}, dir),
      'not_configured',
    );
  });
});
