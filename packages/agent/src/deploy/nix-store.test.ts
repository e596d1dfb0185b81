import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  runResultOf,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
} from '@flotilla/runtime';
import { NixStore } from './nix-store.js';

const PATH = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-h1';
const KEY = 'flotilla-ctl-1:dQMazEW7OQfpD355sb5asrOVwPQpeh4xHJ+DgDncQyo=';
const HOST = { controllerUrl: 'ws://127.0.0.1:8080/api/v1/agent/ws', token: 'flta_hostsecret' };

interface SeenRun {
  args: readonly string[];
  netrcFile: string | undefined;
  netrc: string | undefined;
  netrcMode: number | undefined;
}

/** Records each `nix copy` and the netrc file as it was while the command ran. */
class RecordingRunner implements ProcessRunner {
  runs: SeenRun[] = [];
  constructor(private readonly exitCode = 0) {}
  async run(_command: string, args: readonly string[], _options: RunOptions): Promise<RunResult> {
    const index = args.indexOf('netrc-file');
    const netrcFile = index < 0 ? undefined : args[index + 1];
    this.runs.push({
      args,
      netrcFile,
      netrc: netrcFile === undefined ? undefined : await readFile(netrcFile, 'utf8'),
      netrcMode: netrcFile === undefined ? undefined : (await stat(netrcFile)).mode & 0o777,
    });
    return runResultOf({
      exitCode: this.exitCode,
      stderrTail: this.exitCode === 0 ? [] : ['error: cannot add path: HTTP error 401'],
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

  const store = (runner: ProcessRunner) =>
    new NixStore({ runner, env: {}, stateDir: join(dir, 'state'), host: HOST });

  it('gives the host token to nix for the controller cache in a private netrc, then removes it', async () => {
    const runner = new RecordingRunner();
    const outcome = await store(runner).fetch(
      { url: 'http://127.0.0.1:8080/cache', publicKeys: [KEY] },
      PATH,
      () => {},
    );
    assert.deepEqual(outcome, { ok: true });
    const run = runner.runs[0];
    assert.ok(run);
    assert.equal(run.netrc, 'machine 127.0.0.1 login flotilla password flta_hostsecret\n');
    assert.equal(run.netrcMode, 0o600);
    assert.ok(
      !run.args.join(' ').includes('flta_hostsecret'),
      'the token is not on the command line',
    );
    assert.ok(!run.args.includes('--no-check-sigs'));
    const keys = run.args[run.args.indexOf('trusted-public-keys') + 1];
    assert.equal(keys, KEY);
    assert.deepEqual(await readdir(join(dir, 'state')), [], 'the netrc file is gone');
  });

  it('sends no token to a cache elsewhere and says so when the fetch fails', async () => {
    const runner = new RecordingRunner(1);
    const outcome = await store(runner).fetch(
      { url: 'https://cache.example/fleet', publicKeys: [KEY] },
      PATH,
      () => {},
    );
    assert.equal(runner.runs[0]?.netrcFile, undefined);
    assert.equal(outcome.ok, false);
    assert.match(
      outcome.ok ? '' : outcome.reason,
      /no credentials were sent: the cache is not on the controller's origin http:\/\/127\.0\.0\.1:8080/,
    );
  });
});

describe('NixStore.setProfile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-nix-profile-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds a generation for a new system and switches back to one the profile holds', async () => {
    const profiles = join(dir, 'profiles');
    await mkdir(profiles);
    const good = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-good';
    const bad = '/nix/store/1c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-bad';
    await symlink(good, join(profiles, 'system-1-link'));
    await symlink(bad, join(profiles, 'system-2-link'));
    await symlink('system-2-link', join(profiles, 'system'));
    const runner = new RecordingRunner();
    const nixStore = new NixStore({ runner, env: {}, stateDir: join(dir, 'state'), host: HOST });
    const profile = join(profiles, 'system');

    assert.deepEqual(await nixStore.setProfile(profile, good, () => {}), { ok: true });
    assert.deepEqual(runner.runs[0]?.args, ['-p', profile, '--switch-generation', '1']);

    assert.deepEqual(await nixStore.setProfile(profile, PATH, () => {}), { ok: true });
    assert.deepEqual(runner.runs[1]?.args, ['-p', profile, '--set', PATH]);
  });
});
