import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { run } from './cli.js';
import type { SecretInput } from './command.js';
import type { ContextListing } from './context.view.js';
import type { CliRun } from './test-controller.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-context-'));
  file = join(dir, 'config', 'contexts.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Standard input fed by a pipe holding `text`. */
function piped(text: string): SecretInput {
  return {
    isTerminal: false,
    readAll: () => Promise.resolve(text),
    readHidden: () => Promise.reject(new Error('not a terminal')),
  };
}

/** A terminal where the user types `typed` at the hidden prompt; prompts are recorded. */
function terminal(typed: string, prompts: string[]): SecretInput {
  return {
    isTerminal: true,
    readAll: () => Promise.reject(new Error('a terminal is not read to its end')),
    readHidden: (prompt) => {
      prompts.push(prompt);
      return Promise.resolve(typed);
    },
  };
}

/** Runs the CLI with the contexts file in the temp dir and no controller configured at all. */
async function flotilla(argv: string[], stdin: SecretInput = piped('')): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run({
    argv,
    env: { FLOTILLA_CONTEXT_FILE: file },
    homedir: dir,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    stdin,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

async function addWithTokenFile(name: string, url: string, token: string): Promise<CliRun> {
  const tokenFile = join(dir, `${name}.token`);
  await writeFile(tokenFile, `${token}\n`);
  return flotilla(['context', 'add', name, '--url', url, '--token-file', tokenFile]);
}

describe('flotilla context', () => {
  it('says how to add one when there is none, without a controller', async () => {
    const { code, stdout } = await flotilla(['context']);
    assert.equal(code, 0);
    assert.equal(
      stdout,
      `no contexts in ${file}\nAdd one with: flotilla context add NAME --url URL [--token-file FILE]`,
    );
  });

  it('adds from a token file into a private file; lists with the current one marked, never the token', async () => {
    const added = await addWithTokenFile('demo', 'http://127.0.0.1:8080', 'demo-secret');
    assert.equal(added.code, 0);
    assert.equal(
      added.stdout,
      'added context demo: http://127.0.0.1:8080, token stored; it is the current context',
    );
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
      current: 'demo',
      contexts: { demo: { url: 'http://127.0.0.1:8080', token: 'demo-secret' } },
    });
    await flotilla(['context', 'add', 'open', '--url', 'http://10.0.0.2:8080'], piped(''));

    const { code, stdout } = await flotilla(['context', 'list']);
    assert.equal(code, 0);
    assert.deepEqual(stdout.split('\n'), [
      '   NAME  URL                    TOKEN',
      '*  demo  http://127.0.0.1:8080  stored',
      '   open  http://10.0.0.2:8080   none',
      '',
      `Contexts file: ${file}`,
    ]);
    const json = await flotilla(['context', '--json']);
    assert.ok(!json.stdout.includes('demo-secret'));
    assert.deepEqual(JSON.parse(json.stdout) as ContextListing, {
      file,
      current: 'demo',
      contexts: [
        { name: 'demo', url: 'http://127.0.0.1:8080', current: true, hasToken: true },
        { name: 'open', url: 'http://10.0.0.2:8080', current: false, hasToken: false },
      ],
    });
  });

  it('reads the token from piped standard input, or from a hidden prompt at a terminal', async () => {
    const fromPipe = await flotilla(
      ['context', 'add', 'prod', '--url', 'https://ctl.example.org'],
      piped('  piped-secret\n'),
    );
    assert.equal(fromPipe.code, 0);
    const prompts: string[] = [];
    const fromPrompt = await flotilla(
      ['context', 'add', 'lab', '--url', 'http://lab:8080', '--use'],
      terminal('typed-secret', prompts),
    );
    assert.equal(fromPrompt.code, 0);
    assert.deepEqual(prompts, ['API token for lab (input hidden; empty for none): ']);
    assert.ok(!fromPrompt.stdout.includes('typed-secret'));
    const stored = JSON.parse(await readFile(file, 'utf8')) as {
      current: string;
      contexts: Record<string, { token?: string }>;
    };
    assert.equal(stored.current, 'lab');
    assert.equal(stored.contexts.prod?.token, 'piped-secret');
    assert.equal(stored.contexts.lab?.token, 'typed-secret');
  });

  it('reads standard input to its end with --token-file -, even at a terminal', async () => {
    const stdin: SecretInput = { ...piped('dash-secret\n'), isTerminal: true };
    const { code } = await flotilla(
      ['context', 'add', 'x', '--url', 'http://x:1', '--token-file', '-'],
      stdin,
    );
    assert.equal(code, 0);
    assert.match(await readFile(file, 'utf8'), /"token": "dash-secret"/);
  });

  it('refuses a token on the command line and other connection flags, before touching the file', async () => {
    const withToken = await flotilla([
      'context',
      'add',
      'demo',
      '--url',
      'http://a:1',
      '--token',
      'argv-secret',
    ]);
    assert.equal(withToken.code, 2);
    assert.match(
      withToken.stderr,
      /^error: context add needs no controller and takes no --token$/m,
    );
    assert.match(
      withToken.stderr,
      /usage: flotilla context add NAME --url URL \[--token-file FILE\]/,
    );
    const withContext = await flotilla(['context', '--context', 'demo']);
    assert.equal(withContext.code, 2);
    const withUrl = await flotilla(['context', 'use', 'demo', '--url', 'http://a:1']);
    assert.equal(withUrl.code, 2);
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('checks the name, the URL and the sub-command before reading anything', async () => {
    const noUrl = await flotilla(['context', 'add', 'demo']);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /^error: --url is required$/m);
    const badUrl = await flotilla(['context', 'add', 'demo', '--url', 'localhost:8080']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--url "localhost:8080" is not an http\(s\) URL/);
    const badName = await flotilla(['context', 'add', '-x', '--url', 'http://a:1']);
    assert.equal(badName.code, 2);
    const spaced = await flotilla(['context', 'add', 'my prod', '--url', 'http://a:1']);
    assert.equal(spaced.code, 2);
    assert.match(spaced.stderr, /context name "my prod" must be a letter or digit/);
    const unknown = await flotilla(['context', 'switch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown context command "switch" \(list, use, add or remove\)/);
  });

  it('refuses a token file it cannot read or that holds more than a token', async () => {
    const missing = await flotilla([
      'context',
      'add',
      'demo',
      '--url',
      'http://a:1',
      '--token-file',
      join(dir, 'nope'),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read token file .*nope \(ENOENT\) \(token_unreadable\)$/);
    const twoWords = await flotilla(
      ['context', 'add', 'demo', '--url', 'http://a:1'],
      piped('export TOKEN=abc\n'),
    );
    assert.equal(twoWords.code, 1);
    assert.match(twoWords.stderr, /standard input holds more than one word/);
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('replaces a context with its token, switches and removes', async () => {
    await addWithTokenFile('demo', 'http://a:1', 'old-secret');
    await addWithTokenFile('prod', 'http://b:2', 'prod-secret');
    const replaced = await addWithTokenFile('demo', 'http://a:2', 'new-secret');
    assert.equal(
      replaced.stdout,
      'replaced context demo: http://a:2, token stored; it is the current context',
    );
    assert.match(await readFile(file, 'utf8'), /"token": "new-secret"/);

    const used = await flotilla(['context', 'use', 'prod']);
    assert.equal(used.code, 0);
    assert.equal(used.stdout, 'current context: prod (http://b:2)');
    const removed = await flotilla(['context', 'remove', 'prod', '--json']);
    assert.equal(removed.code, 0);
    const listing = JSON.parse(removed.stdout) as ContextListing;
    assert.equal(listing.current, null);
    assert.deepEqual(
      listing.contexts.map((c) => c.name),
      ['demo'],
    );
    const list = await flotilla(['context']);
    assert.match(
      list.stdout,
      /^No context is current; choose one with: flotilla context use NAME$/m,
    );
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it('names the contexts there are when asked for one that is not', async () => {
    await addWithTokenFile('demo', 'http://a:1', 'secret');
    const text = await flotilla(['context', 'use', 'staging']);
    assert.equal(text.code, 1);
    assert.equal(
      text.stderr,
      `error: no context "staging" in ${file} (known: demo) (context_not_found)`,
    );
    const json = await flotilla(['context', 'remove', 'staging', '--json']);
    assert.equal(json.code, 1);
    assert.equal(
      (JSON.parse(json.stderr) as { error: { code: string } }).error.code,
      'context_not_found',
    );
  });
});
