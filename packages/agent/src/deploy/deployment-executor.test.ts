import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeployResult,
  type CacheSource,
  type DeployLog,
  type DeployProgress,
  type DeployRequest,
  type HostMode,
} from '@flotilla/protocol';
import { systemClock } from '../clock.js';
import { Logger } from '../logger.js';
import type { ActivationOutcome, ActivationRequest, Activator } from './activator.js';
import { DeploymentExecutor } from './deployment-executor.js';
import type { OnOutputLine, StepOutcome, SystemStore } from './nix-store.js';

const PATH = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';
const CACHE: CacheSource = { url: 'http://u:pw@cache.local/', publicKeys: ['k:abc'] };

/** Stands in for Nix: which paths are present and what each step answers. */
class FakeStore implements SystemStore {
  calls: string[] = [];
  constructor(
    private present: boolean,
    private readonly fetchOutcome: StepOutcome = { ok: true },
    private readonly profileOutcome: StepOutcome = { ok: true },
  ) {}
  isValid(): Promise<boolean> {
    this.calls.push('isValid');
    return Promise.resolve(this.present);
  }
  fetch(_cache: CacheSource, _path: string, onLine: OnOutputLine): Promise<StepOutcome> {
    this.calls.push('fetch');
    onLine('stderr', 'copying path');
    this.present = this.fetchOutcome.ok;
    return Promise.resolve(this.fetchOutcome);
  }
  setProfile(profile: string): Promise<StepOutcome> {
    this.calls.push(`setProfile ${profile}`);
    return Promise.resolve(this.profileOutcome);
  }
}

class FakeActivator implements Activator {
  requests: ActivationRequest[] = [];
  release: () => void = () => {};
  constructor(
    private readonly outcome: ActivationOutcome,
    private readonly wait = false,
  ) {}
  async activate(request: ActivationRequest): Promise<ActivationOutcome> {
    this.requests.push(request);
    request.onLine('stdout', 'activating the configuration...');
    if (this.wait) await new Promise<void>((resolve) => (this.release = resolve));
    return this.outcome;
  }
}

function setup(options: { mode?: HostMode; store?: FakeStore; activator?: FakeActivator }) {
  const messages: (DeployProgress | DeployLog)[] = [];
  const results: DeployResult[] = [];
  const store = options.store ?? new FakeStore(true);
  const activator =
    options.activator ?? new FakeActivator({ exitCode: 0, signal: null, spawnError: null });
  let finished = 0;
  const executor = new DeploymentExecutor({
    mode: options.mode ?? 'managed',
    profile: '/p/system',
    store,
    activator,
    readCurrentSystem: () => Promise.resolve(PATH),
    reporter: {
      send: (message) => messages.push(message),
      deliverResult: (result) => {
        results.push(DeployResult.parse(result));
        return Promise.resolve();
      },
    },
    clock: systemClock,
    logger: new Logger({ level: 'error', output: { write: () => true } }),
    onFinished: () => finished++,
  });
  const logLines = () =>
    messages.flatMap((m) => (m.type === 'deploy.log' ? m.lines.map((l) => l.line) : []));
  const phases = () => messages.flatMap((m) => (m.type === 'deploy.progress' ? [m.phase] : []));
  return { executor, store, activator, results, logLines, phases, finished: () => finished };
}

function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    type: 'deploy.request',
    deploymentId: 'd1',
    storePath: PATH,
    action: 'switch',
    cache: null,
    ...overrides,
  };
}

describe('DeploymentExecutor', () => {
  it('sets the profile and activates a path already in the store', async () => {
    const t = setup({});
    await t.executor.handle(request());
    assert.deepEqual(t.phases(), ['fetching', 'setting_profile', 'activating']);
    assert.deepEqual(t.store.calls, ['isValid', 'setProfile /p/system']);
    assert.equal(t.activator.requests[0]?.action, 'switch');
    assert.deepEqual(t.results, [
      {
        type: 'deploy.result',
        deploymentId: 'd1',
        outcome: 'succeeded',
        exitCode: 0,
        error: null,
        currentSystem: PATH,
      },
    ]);
    assert.ok(t.logLines().includes('activating the configuration...'));
    assert.ok(t.logLines().some((line) => /already in the store/.test(line)));
    assert.equal(t.finished(), 1);
  });

  it('fetches from the cache without logging its credentials, and skips the profile for test', async () => {
    const t = setup({ store: new FakeStore(false) });
    await t.executor.handle(request({ action: 'test', cache: CACHE }));
    assert.deepEqual(t.store.calls, ['isValid', 'fetch']);
    assert.equal(t.results[0]?.outcome, 'succeeded');
    assert.ok(t.logLines().includes(`fetching ${PATH} from http://cache.local/`));
    assert.ok(t.logLines().every((line) => !line.includes('pw')));
  });

  it('fails with fetch_failed when the path is missing and there is no cache', async () => {
    const t = setup({ store: new FakeStore(false) });
    await t.executor.handle(request());
    assert.equal(t.results[0]?.outcome, 'failed');
    assert.equal(t.results[0]?.error?.code, 'fetch_failed');
    assert.equal(t.activator.requests.length, 0);
  });

  it('reports fetch and profile failures with their codes', async () => {
    const fetchFails = setup({ store: new FakeStore(false, { ok: false, reason: 'no sig' }) });
    await fetchFails.executor.handle(request({ cache: CACHE }));
    assert.deepEqual(fetchFails.results[0]?.error, { code: 'fetch_failed', message: 'no sig' });

    const profileFails = setup({
      store: new FakeStore(true, { ok: true }, { ok: false, reason: 'ro' }),
    });
    await profileFails.executor.handle(request({ action: 'boot' }));
    assert.equal(profileFails.results[0]?.error?.code, 'profile_failed');
    assert.equal(profileFails.activator.requests.length, 0);
  });

  it('fails with activation_failed and the exit code', async () => {
    const activator = new FakeActivator({ exitCode: 2, signal: null, spawnError: null });
    const t = setup({ activator });
    await t.executor.handle(request());
    const result = t.results[0];
    assert.equal(result?.outcome, 'failed');
    assert.equal(result?.exitCode, 2);
    assert.equal(result?.error?.code, 'activation_failed');
    assert.match(result?.error?.message ?? '', /exited with code 2/);
    assert.ok(t.logLines().includes('activation exited with code 2'));
  });

  it('counts exit code 100 as success that needs a reboot', async () => {
    const activator = new FakeActivator({ exitCode: 100, signal: null, spawnError: null });
    const t = setup({ activator });
    await t.executor.handle(request());
    assert.equal(t.results[0]?.outcome, 'succeeded');
    assert.equal(t.results[0]?.exitCode, 100);
    assert.ok(t.logLines().some((line) => /reboot required/.test(line)));
  });

  it('refuses in monitor mode with host_not_managed', async () => {
    const t = setup({ mode: 'monitor' });
    await t.executor.handle(request());
    assert.equal(t.results[0]?.outcome, 'refused');
    assert.equal(t.results[0]?.error?.code, 'host_not_managed');
    assert.match(t.results[0]?.error?.message ?? '', /monitor-only/);
    assert.deepEqual(t.store.calls, []);
    assert.equal(t.finished(), 0);
  });

  it('refuses a second deployment while one runs and ignores a repeat of the running one', async () => {
    const activator = new FakeActivator({ exitCode: 0, signal: null, spawnError: null }, true);
    const t = setup({ activator });
    const first = t.executor.handle(request());
    while (activator.requests.length === 0) await new Promise((r) => setImmediate(r));
    await t.executor.handle(request({ deploymentId: 'd2' }));
    await t.executor.handle(request());
    assert.deepEqual(
      t.results.map((r) => [r.deploymentId, r.outcome, r.error?.code]),
      [['d2', 'refused', 'agent_busy']],
    );
    activator.release();
    await first;
    assert.deepEqual(
      t.results.map((r) => r.deploymentId),
      ['d2', 'd1'],
    );
    assert.equal(t.executor.running, null);
  });
});
