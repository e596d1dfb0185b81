import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Me } from '@flotilla/protocol';
import { LiveController, type LiveRun } from './controller-fixture.js';
import type { ContextFile } from './context.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a much longer passphrase';

// setup, login, whoami, password, TOTP and logout against the real controller: every token
// the CLI keeps is checked against the controller itself, not only against the file.
describe('flotilla setup, login, whoami and logout', { timeout: 120_000 }, () => {
  let live: LiveController;
  /** Ada's TOTP secret, as her authenticator app holds it once she turned TOTP on. */
  let secret = '';
  before(async () => {
    live = await LiveController.start();
  });
  after(() => live?.stop());

  const contexts = async () => JSON.parse(await readFile(live.contextFile, 'utf8')) as ContextFile;
  /** `whoami` with a token given as automation gives it, bypassing the contexts file. */
  const whoamiWith = (token: string): Promise<LiveRun> =>
    live.flotilla(['whoami'], { env: { FLOTILLA_URL: live.url, FLOTILLA_TOKEN: token } });

  it('refuses a wrong setup token, then creates the first admin from piped standard input and logs in', async () => {
    const setupToken = (await readFile(live.setupTokenFile, 'utf8')).trim();
    const wrong = await live.flotilla(['setup', '--url', live.url], {
      input: { piped: `flsetup_wrong\n${PASSWORD}\n` },
    });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, 'error: that is not the setup token (invalid_credentials)');
    await assert.rejects(stat(live.contextFile), { code: 'ENOENT' });

    const done = await live.flotilla(['setup', '--url', live.url], {
      input: { piped: `${setupToken}\n${PASSWORD}\n` },
    });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stderr, `Created the first admin ada at ${live.url}.`);
    const lines = done.stdout.split('\n');
    assert.equal(lines[0], `Logged in to ${live.url} as ada (admin).`);
    assert.match(
      lines[1] ?? '',
      /^Token cli@testbox \(t\w+\): scope admin, expires 2026-05-31 10:00:00Z \(in 90 d\)\.$/,
    );
    assert.equal(
      lines[2],
      `Kept in context 127.0.0.1 of ${live.contextFile} (readable by you only); it is the current context.`,
    );
    assert.equal((await stat(live.contextFile)).mode & 0o777, 0o600);
    const file = await contexts();
    const entry = file.contexts['127.0.0.1'];
    assert.equal(file.current, '127.0.0.1');
    assert.equal(entry?.url, live.url);
    assert.equal(entry?.username, 'ada');
    assert.match(entry?.token ?? '', /^flt_/);
    assert.ok(done.stdout.includes(entry?.tokenId ?? '?'));
    assert.ok(
      !done.stdout.includes(entry?.token ?? '?') && !done.stderr.includes(entry?.token ?? '?'),
    );

    const again = await live.flotilla(['setup', '--url', live.url], {
      input: { piped: `${setupToken}\n${PASSWORD}\n` },
    });
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      'error: the controller has its first admin already: log in with "flotilla login" (setup_done)',
    );
  });

  it('says who is logged in, with which role, how, and with which scope', async () => {
    const text = await live.flotilla(['whoami']);
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(text.stdout.split('\n'), [
      'User:        ada',
      'Role:        admin',
      'Via:         an API token, scope admin',
      'TOTP:        off (turn it on with: flotilla totp enable)',
      `Controller:  ${live.url}`,
    ]);
    const json = await live.flotilla(['whoami', '--json']);
    const me = JSON.parse(json.stdout) as Me;
    assert.deepEqual(
      [me.user.username, me.via, me.scope, me.role],
      ['ada', 'token', 'admin', 'admin'],
    );
  });

  it('logs in again with a narrower token: the file keeps its id and user, the token before is revoked', async () => {
    const before = (await contexts()).contexts['127.0.0.1'];
    const login = await live.flotilla(
      ['login', '--scope', 'read', '--token-name', 'laptop', '--expires-days', '7'],
      { input: { piped: `${PASSWORD}\n` } },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.deepEqual(login.stdout.split('\n').slice(0, 2), [
      `Logged in to ${live.url} as ada (admin; acting as viewer with this token's scope).`,
      `Token laptop (${(await contexts()).contexts['127.0.0.1']?.tokenId ?? '?'}): scope read, expires 2026-03-09 10:00:00Z (in 7 d).`,
    ]);
    const after = (await contexts()).contexts['127.0.0.1'];
    assert.notEqual(after?.token, before?.token);
    assert.equal(after?.username, 'ada');
    assert.equal((await stat(live.contextFile)).mode & 0o777, 0o600);

    const old = await whoamiWith(before?.token ?? '');
    assert.equal(old.code, 1);
    assert.equal(
      old.stderr,
      'error: not logged in, or the token expired or was revoked: run "flotilla login" (unauthorized)',
    );
    const narrow = await live.flotilla(['user', 'list']);
    assert.equal(narrow.code, 1);
    assert.equal(
      narrow.stderr,
      "error: the token's read scope does not allow this (it needs admin): log in again with a wider scope, flotilla login --scope admin (scope_forbidden)",
    );
  });

  it('changes the password from piped standard input; the old one no longer logs in', async () => {
    const changed = await live.flotilla(['password'], {
      input: { piped: `${PASSWORD}\n${NEW_PASSWORD}\n` },
    });
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /^Password changed for ada; browser sessions were ended/);
    const oldPassword = await live.flotilla(['login'], { input: { piped: `${PASSWORD}\n` } });
    assert.equal(oldPassword.code, 1);
    assert.equal(oldPassword.stderr, 'error: unknown user or wrong password (invalid_credentials)');
    const missing = await live.flotilla(['password'], { input: { piped: `${NEW_PASSWORD}\n` } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /standard input holds no new password .*\(input_missing\)$/);
  });

  it('asks a TOTP user for a code at a terminal, and says to pass --totp without one', async () => {
    const login = await live.flotilla(['login'], { input: { piped: `${NEW_PASSWORD}\n` } });
    assert.equal(login.code, 0, login.stderr);
    const enabled = await live.flotilla(['totp', 'enable'], {
      input: {
        terminal: (_prompt, stdout) => {
          secret =
            new URL(/otpauth:\/\/\S+/.exec(stdout)?.[0] ?? 'x:').searchParams.get('secret') ?? '';
          return live.totp(secret);
        },
      },
    });
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /^ {2}otpauth:\/\/totp\//m);
    assert.match(
      enabled.stdout,
      /^ {2}([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/m,
      'the secret, grouped for typing',
    );
    assert.equal(
      enabled.stdout.match(/^ {2}[0-9a-f]{4}-[0-9a-f]{4} {2}[0-9a-f]{4}-[0-9a-f]{4}$/gm)?.length,
      5,
    );
    assert.deepEqual(enabled.prompts, ['Code from the app (hidden): ']);

    const piped = await live.flotilla(['login'], { input: { piped: `${NEW_PASSWORD}\n` } });
    assert.equal(piped.code, 1);
    assert.equal(
      piped.stderr,
      'error: this user has TOTP on: give a current code from the authenticator app with --totp CODE (a recovery code works too) (totp_required)',
    );
    const atTerminal = await live.flotilla(['login'], {
      input: {
        terminal: (prompt) => (prompt.startsWith('Password') ? NEW_PASSWORD : live.totp(secret)),
      },
    });
    assert.equal(atTerminal.code, 0, atTerminal.stderr);
    assert.deepEqual(atTerminal.prompts, [
      `Password for ada at ${live.url} (hidden): `,
      'TOTP code of ada from the authenticator app (or a recovery code; hidden): ',
    ]);
    const withFlag = await live.flotilla(['login', '--totp', live.totp(secret)], {
      input: { piped: `${NEW_PASSWORD}\n` },
    });
    assert.equal(withFlag.code, 0, withFlag.stderr);
    const me = JSON.parse((await live.flotilla(['whoami', '--json'])).stdout) as Me;
    assert.equal(me.user.totpEnabled, true);
  });

  it('logs out everywhere: the token is revoked on the controller and removed from the file', async () => {
    const entry = (await contexts()).contexts['127.0.0.1'];
    const out = await live.flotilla(['logout', '--everywhere']);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.split('\n'), [
      'Ended 0 browser sessions.',
      `Logged out of ${live.url}: token ${entry?.tokenId ?? '?'} revoked and removed from context 127.0.0.1.`,
    ]);
    assert.deepEqual((await contexts()).contexts['127.0.0.1'], { url: live.url, username: 'ada' });
    assert.equal((await whoamiWith(entry?.token ?? '')).code, 1, 'the controller refuses it');

    const whoami = await live.flotilla(['whoami']);
    assert.equal(whoami.code, 1);
    assert.equal(
      whoami.stderr,
      `error: not logged in to ${live.url}: run "flotilla login" (automation: set FLOTILLA_TOKEN) (not_configured)`,
    );
    const again = await live.flotilla(['logout']);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      'error: context 127.0.0.1 holds no token: not logged in (not_configured)',
    );
  });

  it('reads a contexts file from before login (no token id); logout asks the controller which token it is and revokes it', async () => {
    const login = await live.flotilla(['login', '--totp', live.totp(secret)], {
      input: { piped: `${NEW_PASSWORD}\n` },
    });
    assert.equal(login.code, 0, login.stderr);
    const created = await live.flotilla(['token', 'create', 'script']);
    assert.equal(created.code, 0, created.stderr);
    await writeFile(
      live.contextFile,
      JSON.stringify({
        current: 'old',
        contexts: { old: { url: live.url, token: created.stdout } },
      }),
    );
    assert.equal((await live.flotilla(['whoami'])).code, 0);
    const out = await live.flotilla(['logout']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^Logged out of http:\/\/127\.0\.0\.1:\d+: token t\w+ revoked and removed from context old\.$/,
    );
    assert.equal(out.stderr, '');
    assert.deepEqual((await contexts()).contexts.old, { url: live.url });
    assert.notEqual((await whoamiWith(created.stdout)).code, 0, 'the token no longer works');
  });

  it('refuses a token on the command line and checks its options before asking anything', async () => {
    const withToken = await live.flotilla(['login', '--token', 'flt_x']);
    assert.equal(withToken.code, 2);
    assert.match(withToken.stderr, /^error: login keeps its own token and takes no --token$/m);
    const badScope = await live.flotilla(['login', '--scope', 'root']);
    assert.equal(badScope.code, 2);
    assert.match(badScope.stderr, /--scope must be one of read, operate, admin, assistant/);
    const badUrl = await live.flotilla(['setup', '--url', 'localhost:8080']);
    assert.equal(badUrl.code, 2);
  });
});
