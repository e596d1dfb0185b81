import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { ApiTokenList, CreatedToken, Me, UserList } from '@flotilla/protocol';
import { LiveController, type LiveRun } from './controller-fixture.js';
import type { ContextFile } from './context.js';

const PASSWORD = 'correct horse battery staple';

// Users, API tokens and step-up against the real controller, as its first admin ada. Each
// change is read back from the controller, and every refusal is checked to change nothing.
describe('flotilla user, token and step-up', { timeout: 120_000 }, () => {
  let live: LiveController;
  /** Ada's TOTP secret once she turned TOTP on. */
  let secret = '';
  before(async () => {
    live = await LiveController.start();
    const setupToken = (await readFile(live.setupTokenFile, 'utf8')).trim();
    const setup = await live.flotilla(['setup', '--url', live.url, '--context', 'ada'], {
      input: { piped: `${setupToken}\n${PASSWORD}\n` },
    });
    assert.equal(setup.code, 0, setup.stderr);
  });
  after(() => live?.stop());

  const users = async () =>
    (JSON.parse((await live.flotilla(['user', 'list', '--json'])).stdout) as UserList).users;
  const roleOf = async (name: string) => (await users()).find((u) => u.username === name)?.role;
  const whoamiWith = (token: string): Promise<LiveRun> =>
    live.flotilla(['whoami', '--json'], { env: { FLOTILLA_URL: live.url, FLOTILLA_TOKEN: token } });
  /** Logs `name` in with `password` into a context of their own (which becomes the current one). */
  const loginAs = async (name: string, password: string): Promise<string> => {
    const login = await live.flotilla(
      ['login', '--url', live.url, '--context', name, '--username', name],
      { input: { piped: `${password}\n` } },
    );
    assert.equal(login.code, 0, login.stderr);
    await live.flotilla(['context', 'use', 'ada']);
    const file = JSON.parse(await readFile(live.contextFile, 'utf8')) as ContextFile;
    return file.contexts[name]?.token ?? '';
  };

  it('adds a user with a generated password shown once, or one from standard input, and lists them', async () => {
    const bob = await live.flotilla(['user', 'add', 'bob', '--role', 'operator']);
    assert.equal(bob.code, 0, bob.stderr);
    const lines = bob.stdout.split('\n');
    assert.equal(lines[0], 'Added user bob (operator).');
    assert.equal(lines[2], 'Password for bob (generated; shown only this once):');
    const generated = /^ {2}(\S+)$/m.exec(bob.stdout)?.[1] ?? '';
    assert.ok(generated.length >= 12);
    const carol = await live.flotilla(
      ['user', 'add', 'carol', '--role', 'viewer', '--password-stdin'],
      {
        input: { piped: 'carol-password-1\n' },
      },
    );
    assert.equal(carol.code, 0, carol.stderr);
    assert.equal(carol.stdout, 'Added user carol (viewer).');

    const list = await live.flotilla(['user', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.split('\n'), [
      'USER   ROLE      TOTP  STATE   CREATED               BY',
      'ada    admin     off   active  2026-03-02 10:00:00Z  setup',
      'bob    operator  off   active  2026-03-02 10:00:00Z  ada (token cli@testbox)',
      'carol  viewer    off   active  2026-03-02 10:00:00Z  ada (token cli@testbox)',
    ]);
    assert.ok(await loginAs('bob', generated), 'bob logs in with the generated password');
    assert.ok(await loginAs('carol', 'carol-password-1'));
    const exists = await live.flotilla(['user', 'add', 'bob', '--role', 'viewer']);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /\(user_exists\)$/);
    const noRole = await live.flotilla(['user', 'add', 'dave']);
    assert.equal(noRole.code, 2);
    assert.match(noRole.stderr, /^error: --role is required$/m);
  });

  it('changes a role and disables a user, whose token then stops working', async () => {
    const bobToken = await loginAs('bob', await resetPassword('bob'));
    const role = await live.flotilla(['user', 'role', 'bob', 'viewer']);
    assert.equal(role.code, 0, role.stderr);
    assert.equal(role.stdout, 'bob is viewer now.');
    const me = JSON.parse((await whoamiWith(bobToken)).stdout) as Me;
    assert.deepEqual([me.user.role, me.role], ['viewer', 'viewer']);

    const disabled = await live.flotilla(['user', 'disable', 'bob']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(
      disabled.stdout,
      'bob is disabled: they cannot log in, and their browser sessions and API tokens were revoked.',
    );
    const refused = await whoamiWith(bobToken);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /"code":"unauthorized"/);
    const enabled = await live.flotilla(['user', 'enable', 'bob']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal((await users()).find((u) => u.username === 'bob')?.disabled, false);

    const self = await live.flotilla(['user', 'role', 'ada', 'viewer']);
    assert.equal(self.code, 1);
    assert.equal(
      self.stderr,
      'error: you cannot lower your own role or disable yourself (forbidden)',
    );
    assert.equal(await roleOf('ada'), 'admin');
    const unknown = await live.flotilla(['user', 'disable', 'zed']);
    assert.equal(unknown.stderr, 'error: no user named "zed" (user_not_found)');
    const badRole = await live.flotilla(['user', 'role', 'bob', 'root']);
    assert.equal(badRole.code, 2);
    assert.match(
      badRole.stderr,
      /^error: ROLE must be one of viewer, operator, admin \(got "root"\)$/m,
    );
  });

  it('creates a token printed alone on standard output, lists it and revokes it', async () => {
    const created = await live.flotilla([
      'token',
      'create',
      'assistant',
      '--scope',
      'assistant',
      '--expires-days',
      '30',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^flt_\S+$/, 'only the token, on one line');
    const token = created.stdout;
    assert.match(
      created.stderr,
      /^Token assistant \(t\w+\): scope assistant, expires 2026-04-01 10:00:00Z \(in 30 d\)\.$/m,
    );
    assert.match(created.stderr, /shown only this once/);
    const me = JSON.parse((await whoamiWith(token)).stdout) as Me;
    assert.deepEqual([me.via, me.scope, me.role], ['token', 'assistant', 'viewer']);

    const json = await live.flotilla(['token', 'create', 'ci', '--json']);
    const ci = JSON.parse(json.stdout) as CreatedToken;
    assert.equal(ci.apiToken.scope, 'admin');
    assert.match(ci.token, /^flt_/);

    const id = (
      JSON.parse((await live.flotilla(['token', 'list', '--json'])).stdout) as ApiTokenList
    ).tokens.find((t) => t.name === 'assistant')?.id;
    assert.ok(id);
    const list = await live.flotilla(['token', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+NAME\s+SCOPE\s+STATE\s+CREATED\s+EXPIRES\s+LAST USED$/m);
    assert.match(
      list.stdout,
      new RegExp(
        `^${id}\\s+assistant\\s+assistant\\s+active\\s+2026-03-02 10:00:00Z\\s+2026-04-01 10:00:00Z\\s+just now$`,
        'm',
      ),
    );
    assert.ok(!list.stdout.includes(token));

    const revoked = await live.flotilla(['token', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `token ${id} revoked`);
    assert.equal((await whoamiWith(token)).code, 1, 'the controller refuses a revoked token');
    assert.match(
      (await live.flotilla(['token', 'list'])).stdout,
      new RegExp(`^${id}\\s+assistant\\s+assistant\\s+revoked`, 'm'),
    );
    const all = await live.flotilla(['token', 'list', '--all']);
    assert.match(all.stdout, /^ID\s+NAME\s+USER\s+SCOPE/m);
    assert.match(all.stdout, /\s+cli@testbox\s+carol\s+read\s+active/);
    const gone = await live.flotilla(['token', 'revoke', 'tnothing']);
    assert.equal(gone.stderr, 'error: no token "tnothing" of yours (token_not_found)');
  });

  it('says until when a locked account is locked, and a password reset unlocks it', async () => {
    const add = await live.flotilla(
      ['user', 'add', 'dave', '--role', 'viewer', '--password-stdin'],
      {
        input: { piped: 'dave-password-1\n' },
      },
    );
    assert.equal(add.code, 0, add.stderr);
    const attempt = () =>
      live.flotilla(['login', '--context', 'ada', '--username', 'dave'], {
        input: { piped: 'not-his-password\n' },
      });
    for (let i = 0; i < 5; i++) assert.match((await attempt()).stderr, /\(invalid_credentials\)$/);
    const locked = await attempt();
    assert.equal(locked.code, 1);
    assert.equal(
      locked.stderr,
      `error: too many failed logins: the account is locked until ${lockedUntil(live)} (in 15 m); an admin can unlock it now with flotilla user reset-password NAME (account_locked)`,
    );
    assert.equal(
      (await live.flotilla(['whoami', '--json'])).code,
      0,
      "the failed logins left ada's context alone",
    );
    const password = await resetPassword('dave');
    assert.ok(await loginAs('dave', password), 'unlocked by the reset');
  });

  it('asks for a TOTP code at a terminal when an action needs step-up, and sends the request once more', async () => {
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

    const prompted = await live.flotilla(['user', 'role', 'carol', 'operator'], {
      input: { terminal: () => live.totp(secret) },
    });
    assert.equal(prompted.code, 0, prompted.stderr);
    assert.deepEqual(prompted.prompts, [
      'TOTP code for "Change a user\'s role, disable them, reset their password or TOTP" (from your authenticator app; hidden): ',
    ]);
    assert.equal(await roleOf('carol'), 'operator');

    const given = await live.flotilla([
      'user',
      'role',
      'carol',
      'viewer',
      '--totp',
      live.totp(secret),
    ]);
    assert.equal(given.code, 0, given.stderr);
    const fromEnv = await live.flotilla(['user', 'role', 'carol', 'operator'], {
      env: { FLOTILLA_TOTP: live.totp(secret) },
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(await roleOf('carol'), 'operator');
  });

  it('says to pass --totp when an action needs step-up and there is no terminal; a wrong code changes nothing', async () => {
    const piped = await live.flotilla(['user', 'role', 'carol', 'viewer']);
    assert.equal(piped.code, 1);
    assert.equal(
      piped.stderr,
      "error: Change a user's role, disable them, reset their password or TOTP needs a fresh TOTP code (header x-flotilla-totp, or POST /api/v1/auth/step-up): pass --totp CODE (or set FLOTILLA_TOTP) with a current code from your authenticator app (step_up_required)",
    );
    const code = live.totp(secret);
    assert.equal(
      (await live.flotilla(['user', 'role', 'carol', 'viewer', '--totp', code])).code,
      0,
    );
    const reused = await live.flotilla(['user', 'role', 'carol', 'operator', '--totp', code]);
    assert.equal(reused.code, 1);
    assert.equal(
      reused.stderr,
      'error: that code is not valid; give a current one (the code from --totp or FLOTILLA_TOTP; each code works once) (step_up_required)',
    );
    assert.equal(await roleOf('carol'), 'viewer');
    const wrongAtTerminal = await live.flotilla(['user', 'role', 'carol', 'operator'], {
      input: { terminal: () => '000000' },
    });
    assert.equal(wrongAtTerminal.code, 1, 'asked once, then the refusal stands');
    assert.equal(wrongAtTerminal.prompts.length, 1);
    assert.equal(await roleOf('carol'), 'viewer');
  });

  it('resets a password (shown once) and TOTP with step-up, and turns TOTP off with a code', async () => {
    const carolToken = await loginAs('carol', 'carol-password-1');
    const reset = await live.flotilla([
      'user',
      'reset-password',
      'carol',
      '--totp',
      live.totp(secret),
    ]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(
      reset.stdout,
      /^New password for carol; their browser sessions and API tokens were revoked\.$/m,
    );
    assert.match(reset.stdout, /^Password for carol \(generated; shown only this once\):$/m);
    assert.equal((await whoamiWith(carolToken)).code, 1);
    const newPassword = /^ {2}(\S+)$/m.exec(reset.stdout)?.[1] ?? '';
    assert.ok(await loginAs('carol', newPassword));

    const off = await live.flotilla(['totp', 'disable', '--totp', live.totp(secret)]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout, 'TOTP is off for ada; its recovery codes no longer work.');
    const noPrompt = await live.flotilla(['user', 'role', 'carol', 'operator']);
    assert.equal(noPrompt.code, 0, 'without TOTP no code is asked for');
  });

  /** A new generated password for `name`, as an admin hands it over. */
  async function resetPassword(name: string): Promise<string> {
    const reset = await live.flotilla(['user', 'reset-password', name]);
    assert.equal(reset.code, 0, reset.stderr);
    return /^ {2}(\S+)$/m.exec(reset.stdout)?.[1] ?? '';
  }
});

/** Fifteen minutes from the controller's clock, as the CLI shows an absolute time in UTC. */
function lockedUntil(live: LiveController): string {
  const until = new Date(live.clock.now().getTime() + 15 * 60_000).toISOString();
  return `${until.slice(0, 10)} ${until.slice(11, 19)}Z`;
}
