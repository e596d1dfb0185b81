import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { execFile } from 'node:child_process';
import {
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  ManualClock,
  processRunner,
  runResultOf,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
} from '@flotilla/runtime';
import { NixStore, type NixStoreOptions } from './nix-store.js';

const PATH = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-h1';
const KEY = 'flotilla-ctl-1:dQMazEW7OQfpD355sb5asrOVwPQpeh4xHJ+DgDncQyo=';
const CONTROLLER = 'ws://127.0.0.1:8080/api/v1/agent/ws';
const execNix = promisify(execFile);

interface SeenRun {
  command: string;
  args: readonly string[];
  env: RunOptions['env'];
  netrcFile: string | undefined;
  netrc: string | undefined;
  netrcMode: number | undefined;
}

/** Records each command and the netrc file as it was when the command started. */
class RecordingRunner implements ProcessRunner {
  runs: SeenRun[] = [];
  /** Set to hold `nix copy` until the test resolves it. */
  hold: Promise<void> | null = null;
  constructor(
    private readonly exitCode = 0,
    private readonly stderrTail: string[] = ['error: cannot add path: HTTP error 401'],
  ) {}
  async run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    const index = args.indexOf('netrc-file');
    const netrcFile = index < 0 ? undefined : args[index + 1];
    this.runs.push({
      command,
      args,
      env: options.env,
      netrcFile,
      netrc: netrcFile === undefined ? undefined : await readFile(netrcFile, 'utf8'),
      netrcMode: netrcFile === undefined ? undefined : (await stat(netrcFile)).mode & 0o777,
    });
    if (this.hold) await this.hold;
    return runResultOf({
      exitCode: this.exitCode,
      stderrTail: this.exitCode === 0 ? [] : this.stderrTail,
    });
  }
}

describe('NixStore.fetch', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-nix-store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let issued = 0;
  const store = (runner: ProcessRunner, extra: Partial<NixStoreOptions> = {}) =>
    new NixStore({
      runner,
      env: { PATH: '/bin' },
      stateDir: join(dir, 'state'),
      controllerUrl: CONTROLLER,
      trustedPublicKeys: [KEY],
      caFile: null,
      credential: () =>
        Promise.resolve({
          token: `fltc_credential-${++issued}`,
          expiresAt: new Date(Date.now() + 600_000).toISOString(),
        }),
      ...extra,
    });

  it('runs one copy for two fetches of the same path at once (a prefetch and a deployment)', async () => {
    const runner = new RecordingRunner();
    let release = () => {};
    runner.hold = new Promise<void>((resolve) => (release = resolve));
    const nixStore = store(runner);
    const cache = { url: 'http://127.0.0.1:8080/cache' };
    const joined: string[] = [];
    const first = nixStore.fetch(cache, PATH, () => {});
    const second = nixStore.fetch(cache, PATH, (_stream, line) => joined.push(line));
    await waitUntil(() => runner.runs.length === 1);
    release();
    assert.deepEqual(await Promise.all([first, second]), [{ ok: true }, { ok: true }]);
    assert.equal(runner.runs.length, 1, 'one nix copy');
    assert.match(joined[0] ?? '', /being fetched already/);
    runner.hold = null;
    assert.deepEqual(await nixStore.fetch(cache, PATH, () => {}), { ok: true });
    assert.equal(runner.runs.length, 2, 'a later fetch copies again');
  });

  it('requires signatures by its own keys and gives nix a fresh credential in a private netrc', async () => {
    const runner = new RecordingRunner();
    const outcome = await store(runner).fetch(
      { url: 'http://127.0.0.1:8080/cache' },
      PATH,
      () => {},
    );
    assert.deepEqual(outcome, { ok: true });
    const run = runner.runs[0];
    assert.ok(run);
    assert.match(
      run.netrc ?? '',
      /^machine 127\.0\.0\.1 login flotilla password fltc_credential-\d+\n$/,
    );
    assert.equal(run.netrcMode, 0o600);
    assert.ok(!run.args.join(' ').includes('fltc_'), 'the credential is not on the command line');
    assert.ok(!run.args.includes('--no-check-sigs'));
    assert.equal(run.args[run.args.indexOf('require-sigs') + 1], 'true');
    assert.equal(run.args[run.args.indexOf('trusted-public-keys') + 1], KEY);
    assert.equal(run.env?.NIX_SSL_CERT_FILE, undefined);
    assert.deepEqual(await readdir(join(dir, 'state')), [], 'the netrc file is gone');
  });

  it('fetches from no other origin and asks for no credential for one', async () => {
    const runner = new RecordingRunner();
    let asked = 0;
    const outcome = await store(runner, {
      credential: () => {
        asked++;
        return Promise.reject(new Error('not expected'));
      },
    }).fetch({ url: 'https://cache.example/fleet' }, PATH, () => {});
    assert.equal(outcome.ok, false);
    assert.match(
      outcome.ok ? '' : outcome.reason,
      /not on the controller's origin http:\/\/127\.0\.0\.1:8080/,
    );
    assert.equal(runner.runs.length, 0);
    assert.equal(asked, 0);
  });

  it('reports a path signed by no trusted key as untrusted_closure, and passes its CA file to Nix', async () => {
    const runner = new RecordingRunner(1, [
      "error: cannot add path '/nix/store/x' because it lacks a valid signature",
    ]);
    const outcome = await store(runner, { caFile: '/etc/flotilla/ca.pem' }).fetch(
      { url: 'http://127.0.0.1:8080/cache' },
      PATH,
      () => {},
    );
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok ? null : outcome.code, 'untrusted_closure');
    assert.equal(runner.runs[0]?.env?.NIX_SSL_CERT_FILE, '/etc/flotilla/ca.pem');
  });

  it('renews the credential in the netrc file while a long copy runs', async () => {
    const clock = new ManualClock();
    const runner = new RecordingRunner();
    let release = () => {};
    runner.hold = new Promise<void>((resolve) => (release = resolve));
    const grants = [0, 1, 2].map((n) => ({
      token: `fltc_grant-${n}`,
      expiresAt: new Date(clock.ms + 600_000 + n * 300_000).toISOString(),
    }));
    let next = 0;
    const fetching = store(runner, {
      clock,
      credential: () => Promise.resolve(grants[next++] ?? grants[2]!),
    }).fetch({ url: 'http://127.0.0.1:8080/cache' }, PATH, () => {});
    await waitUntil(() => runner.runs.length === 1);
    const netrc = runner.runs[0]?.netrcFile ?? '';
    assert.match(await readFile(netrc, 'utf8'), /fltc_grant-0/);
    clock.advance(300_000); // half of the first credential's life
    await waitUntil(async () => /fltc_grant-1/.test(await readFile(netrc, 'utf8')));
    release();
    assert.deepEqual(await fetching, { ok: true });
    await assert.rejects(readFile(netrc), 'removed after the copy');
    clock.advance(3_600_000);
    assert.equal(next, 2, 'no renewal after the copy ended');
  });
});

describe('NixStore.checkSignature', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const trusted = `fleet-1:${raw.toString('base64')}`;
  const narHash = 'sha256-5RlQXtufd/fwLv79PJspdm/dD0Sem/kyMT05ziSZguk=';
  const signedNarHash = 'sha256:1sc2k4jcwf9x64rgk6wy8h7xsvvn56dkrzgy5vqgfxwzvdg506g5';
  const fingerprint = `1;${PATH};${signedNarHash};136;`;
  const signature = `fleet-1:${sign(null, Buffer.from(fingerprint), privateKey).toString('base64')}`;

  const pathInfo = (signatures: string[]) =>
    JSON.stringify([{ path: PATH, narHash, narSize: 136, references: [], signatures }]);

  const checker = (stdout: string, keys = [trusted]) =>
    new NixStore({
      runner: {
        run: () => Promise.resolve(runResultOf({ stdout })),
      },
      env: {},
      stateDir: '/unused',
      controllerUrl: CONTROLLER,
      trustedPublicKeys: keys,
      caFile: null,
      credential: () => Promise.reject(new Error('unused')),
    });

  it('accepts a path signed by one of its keys', async () => {
    assert.deepEqual(await checker(pathInfo([signature])).checkSignature(PATH), { ok: true });
  });

  it('refuses an unsigned path and one signed by another key', async () => {
    const unsigned = await checker(pathInfo([])).checkSignature(PATH);
    assert.equal(unsigned.ok ? null : unsigned.code, 'untrusted_closure');
    assert.match(unsigned.ok ? '' : unsigned.reason, /carries no signature/);
    const other = `other-1:${Buffer.alloc(32, 7).toString('base64')}`;
    const elsewhere = await checker(pathInfo([signature]), [other]).checkSignature(PATH);
    assert.equal(elsewhere.ok ? null : elsewhere.code, 'untrusted_closure');
    assert.match(elsewhere.ok ? '' : elsewhere.reason, /signatures are by fleet-1/);
  });
});

describe('NixStore.prepared', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const trusted = `fleet-1:${raw.toString('base64')}`;
  const narHash = 'sha256-5RlQXtufd/fwLv79PJspdm/dD0Sem/kyMT05ziSZguk=';
  const signedNarHash = 'sha256:1sc2k4jcwf9x64rgk6wy8h7xsvvn56dkrzgy5vqgfxwzvdg506g5';
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NIX_CONFIG: 'experimental-features = nix-command\nsandbox = false\nsubstituters =',
  };
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-nix-prepared-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A real path added to the real store; a fresh one per test, so it can be deleted. */
  const addToStore = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return (await execNix('nix-store', ['--add', file], { env })).stdout.trim();
  };

  it('holds for a checked path kept by its root, and not for one added to the store again', async () => {
    const path = await addToStore(`prepared-${Date.now()}`, 'a prepared system');
    const fingerprint = `1;${path};${signedNarHash};136;`;
    const signature = `fleet-1:${sign(null, Buffer.from(fingerprint), privateKey).toString('base64')}`;
    const info = JSON.stringify([
      { path, narHash, narSize: 136, references: [], signatures: [signature] },
    ]);
    // Real nix-store for the roots; `nix path-info` answers with a signature made here.
    const runner: ProcessRunner = {
      run: (command, args, options) =>
        command === 'nix'
          ? Promise.resolve(runResultOf({ stdout: info }))
          : processRunner.run(command, args, options),
    };
    const store = new NixStore({
      runner,
      env,
      stateDir: join(dir, 'state'),
      controllerUrl: CONTROLLER,
      trustedPublicKeys: [trusted],
      caFile: null,
      credential: () => Promise.reject(new Error('unused')),
    });
    const root = join(dir, 'roots', 'plan');

    assert.equal(await store.prepared(path), false, 'neither checked nor kept');
    assert.deepEqual(await store.checkSignature(path), { ok: true });
    assert.equal(await store.prepared(path), false, 'checked but not kept');
    assert.deepEqual(await store.pin([path], root), { ok: true });
    assert.equal(await store.prepared(path), true);

    await store.unpin(root);
    assert.equal(await store.prepared(path), false, 'its root is gone');

    // Deleted and added again: the same name, but not the directory that was checked.
    await execNix('nix-store', ['--delete', path], { env });
    await execNix('nix-store', ['--add', join(dir, basename(path).slice(33))], { env });
    assert.deepEqual(await store.pin([path], root), { ok: true });
    assert.equal(await store.prepared(path), false, 'added again since it was checked');
    await store.unpin(root);
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('NixStore.setProfile', () => {
  let dir: string;
  const storeWith = (runner: ProcessRunner, env: Record<string, string>) =>
    new NixStore({
      runner,
      env,
      stateDir: join(dir, 'state'),
      controllerUrl: CONTROLLER,
      trustedPublicKeys: [KEY],
      caFile: null,
      credential: () => Promise.reject(new Error('unused')),
    });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-nix-profile-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('switches back to a generation that holds the system, or adds one and roots it', async () => {
    const profiles = join(dir, 'profiles');
    await mkdir(profiles);
    const good = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-good';
    const bad = '/nix/store/1c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-bad';
    await symlink(good, join(profiles, 'system-1-link'));
    await symlink(bad, join(profiles, 'system-2-link'));
    await symlink('system-2-link', join(profiles, 'system'));
    const runner = new RecordingRunner();
    const nixStore = storeWith(runner, { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    const profile = join(profiles, 'system');
    const lines: string[] = [];

    const back = await nixStore.setProfile(profile, good, (_stream, line) => lines.push(line));
    assert.equal(back.ok, true);
    if (back.ok) await back.root();
    assert.equal(await readlink(profile), 'system-1-link');
    assert.equal(runner.runs.length, 0, 'no nix-env, and an old generation needs no new root');

    const fresh = await nixStore.setProfile(profile, PATH, (_stream, line) => lines.push(line));
    assert.equal(fresh.ok, true);
    if (fresh.ok) await fresh.root();
    assert.equal(await readlink(profile), 'system-3-link');
    assert.equal(await readlink(join(profiles, 'system-3-link')), PATH);
    // The new generation is made a GC root the way nix-env makes it one.
    assert.deepEqual(
      runner.runs.map((r) => [r.command, ...r.args]),
      [
        [
          'nix-store',
          '--option',
          'substituters',
          '',
          '--realise',
          PATH,
          '--add-root',
          join(profiles, 'system-3-link'),
          '--indirect',
        ],
      ],
    );
    assert.deepEqual(lines, [
      'switched profile from generation 2 to 1',
      'switched profile from generation 1 to 3 (new)',
    ]);
  });

  it('switches with nix-env where there is no flock', async () => {
    const profiles = join(dir, 'profiles-nix-env');
    await mkdir(profiles);
    await symlink(PATH, join(profiles, 'system-1-link'));
    const runner = new RecordingRunner();
    const nixStore = storeWith(runner, { PATH: join(dir, 'no-such-folder') });
    const profile = join(profiles, 'system');
    const good = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-good';
    assert.equal((await nixStore.setProfile(profile, PATH, () => {})).ok, true);
    assert.equal((await nixStore.setProfile(profile, good, () => {})).ok, true);
    assert.deepEqual(
      runner.runs.map((r) => [r.command, ...r.args]),
      [
        ['nix-env', '-p', profile, '--switch-generation', '1'],
        ['nix-env', '-p', profile, '--set', good],
      ],
    );
  });
});
