/**
 * Stand-ins for the outside world of the deployment executor (clock, Nix, activations,
 * the host, health checks, the controller link), shared by its unit tests. Each records
 * what it was asked, so tests can tell what ran and how often.
 */
import {
  DeployResult,
  type CacheSource,
  type DeployAction,
  type DeployConfirmRequest,
  type DeployLog,
  type DeployProgress,
  type HealthCheck,
  type HealthCheckResult,
} from '@flotilla/protocol';
import { StoppedError } from '../stop-signal.js';
import type {
  ActivationHandle,
  ActivationOutcome,
  ActivationStart,
  Activator,
  FollowOptions,
} from './activator.js';
import type { DeploymentReporter, HostState } from './deployment-run.js';
import { healthCheckName, type HealthChecker } from './health-checks.js';
import type { OnOutputLine, ProfileOutcome, StepOutcome, SystemStore } from './nix-store.js';
import type { ProfileLock } from './profile-switch.js';

export const NEW = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1-2';
export const OLD = '/nix/store/1c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1-1';

/** What the host runs; the stand-ins for Nix and activation change it. */
export class FakeHost implements HostState {
  current: string | null = OLD;
  profile: string | null = OLD;
  failed: string[] | null = null;
  reboot = false;
  currentSystem = () => Promise.resolve(this.current);
  bootDefault = () => Promise.resolve(this.profile);
  failedUnits = () => Promise.resolve(this.failed === null ? null : [...this.failed]);
  rebootRequired = () => Promise.resolve(this.reboot);
}

export class FakeStore implements SystemStore {
  calls: string[] = [];
  valid = new Set<string>([OLD, NEW]);
  roots = new Map<string, string>();
  /** The paths of each `pin`, in order. */
  pins: (readonly string[])[] = [];
  fetchOutcome: StepOutcome = { ok: true };
  profileOutcome: StepOutcome = { ok: true };
  /** Paths signed by a trusted key. */
  signed = new Set<string>([OLD, NEW]);
  /** Paths whose signature was checked, in order. */
  verified: string[] = [];
  /** Generations of the profile, by number. */
  generations = new Map<number, string>();
  /** Paths a plan left ready: kept by its root and checked (see SystemStore.prepared). */
  preparedPaths = new Set<string>();
  constructor(private readonly host: FakeHost) {}
  isValid(path: string): Promise<boolean> {
    return Promise.resolve(this.valid.has(path));
  }
  fetch(_cache: CacheSource, path: string, onLine: OnOutputLine): Promise<StepOutcome> {
    this.calls.push(`fetch ${path}`);
    onLine('stderr', 'copying path');
    if (this.fetchOutcome.ok) this.valid.add(path);
    return Promise.resolve(this.fetchOutcome);
  }
  checkSignature(path: string): Promise<StepOutcome> {
    this.verified.push(path);
    return Promise.resolve(
      this.signed.has(path)
        ? { ok: true }
        : {
            ok: false,
            code: 'untrusted_closure',
            reason: `${path} is not signed by a trusted key`,
          },
    );
  }
  prepared(path: string): Promise<boolean> {
    return Promise.resolve(this.preparedPaths.has(path));
  }
  generationOf(_profile: string, path: string): Promise<number | null> {
    for (const [number, target] of this.generations)
      if (target === path) return Promise.resolve(number);
    return Promise.resolve(null);
  }
  /** Profile locks taken ahead, and whether each was released. */
  locks: { released: boolean }[] = [];
  lockProfile(profile: string): Promise<ProfileLock | null> {
    const entry = { released: false };
    this.locks.push(entry);
    return Promise.resolve({
      profile,
      release: () => {
        entry.released = true;
        return Promise.resolve();
      },
    });
  }
  async setProfile(
    _profile: string,
    path: string,
    _onLine?: OnOutputLine,
    lock: ProfileLock | null = null,
  ): Promise<ProfileOutcome> {
    await lock?.release();
    this.calls.push(`set ${path}`);
    if (!this.profileOutcome.ok) return Promise.resolve(this.profileOutcome);
    this.host.profile = path;
    return Promise.resolve({ ok: true, root: () => Promise.resolve() });
  }
  /** Set to hold every `pin` until the test resolves it. */
  pinHold: Promise<void> | null = null;
  async pin(paths: readonly string[], root: string): Promise<StepOutcome> {
    this.pins.push(paths);
    if (this.pinHold !== null) await this.pinHold;
    const missing = paths.find((path) => !this.valid.has(path));
    if (missing !== undefined) {
      return { ok: false, reason: `${missing} is not in the store` };
    }
    paths.forEach((path, index) =>
      this.roots.set(index === 0 ? root : `${root}-${index + 1}`, path),
    );
    return { ok: true };
  }
  unpin(root: string): Promise<void> {
    this.roots.delete(root);
    return Promise.resolve();
  }
}

/** How a stand-in activation of `storePath` with `action` ends. */
export type Behaviour = (storePath: string, action: DeployAction) => number;

interface FakeRun {
  storePath: string;
  action: DeployAction;
  outcome: ActivationOutcome | null;
  lines: string[];
  wake: (() => void)[];
}

/**
 * Activations that outlive "the agent" like the real ones: kept by handle name, so an
 * executor created after a simulated restart follows the same run. Line counts stand in
 * for byte offsets. `switch` and `test` point the current system at the activated path
 * whatever the exit code, as a half-applied real activation may.
 */
export class FakeActivator implements Activator {
  started: string[] = [];
  discarded: string[] = [];
  /** New activations wait for {@link complete} instead of ending at once. */
  hold = false;
  private readonly runs = new Map<string, FakeRun>();

  constructor(
    private readonly host: FakeHost,
    public behaviour: Behaviour = () => 0,
  ) {}

  plan(request: ActivationStart): ActivationHandle {
    const name = `${request.step}-${request.attempt}`;
    const base = `/state/${request.deploymentId}/${name}`;
    return {
      name,
      logFile: `${base}.log`,
      resultFile: `${base}.result.json`,
      pidFile: `${base}.pid.json`,
      unit: null,
      command: [`${request.storePath}/bin/switch-to-configuration`, request.action],
    };
  }

  start(handle: ActivationHandle): Promise<void> {
    const [program = '', action = 'test'] = handle.command;
    const storePath = program.replace('/bin/switch-to-configuration', '');
    this.started.push(
      `${storePath === NEW ? 'NEW' : storePath === OLD ? 'OLD' : storePath} ${action}`,
    );
    const run: FakeRun = {
      storePath,
      action: action as DeployAction,
      outcome: null,
      lines: [],
      wake: [],
    };
    run.lines.push(`activating ${storePath} (${action})`);
    this.runs.set(handle.logFile, run);
    if (!this.hold) this.finishRun(run);
    return Promise.resolve();
  }

  /** Ends every held activation. */
  complete(): void {
    for (const run of this.runs.values()) if (run.outcome === null) this.finishRun(run);
  }

  async follow(handle: ActivationHandle, options: FollowOptions): Promise<ActivationOutcome> {
    const run = this.runs.get(handle.logFile);
    if (run === undefined)
      return { exitCode: null, signal: null, spawnError: null, lost: 'no such run' };
    while (run.outcome === null) {
      await new Promise<void>((resolve) => {
        run.wake.push(resolve);
        options.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (options.signal.aborted) throw new StoppedError();
    }
    if (run.lines.length > options.offset) {
      await options.onLines(run.lines.slice(options.offset), run.lines.length);
    }
    return run.outcome;
  }

  discard(deploymentId: string): Promise<void> {
    this.discarded.push(deploymentId);
    return Promise.resolve();
  }

  private finishRun(run: FakeRun): void {
    const exitCode = this.behaviour(run.storePath, run.action);
    if ((run.action === 'switch' || run.action === 'test') && exitCode !== 100) {
      this.host.current = run.storePath;
    }
    run.lines.push(`done (exit ${exitCode})`);
    run.outcome = { exitCode, signal: null, spawnError: null, lost: null };
    run.wake.splice(0).forEach((wake) => wake());
  }
}

export class FakeHealth implements HealthChecker {
  runs = 0;
  failing = new Map<string, string>();
  run(check: HealthCheck): Promise<HealthCheckResult> {
    this.runs++;
    const name = healthCheckName(check);
    const failure = this.failing.get(name);
    return Promise.resolve({ name, ok: failure === undefined, detail: failure ?? 'fine' });
  }
}

/** The controller link: records everything; `connected` decides whether sendNow gets through. */
export class FakeReporter implements DeploymentReporter {
  messages: (DeployProgress | DeployLog)[] = [];
  results: DeployResult[] = [];
  confirmRequests: DeployConfirmRequest[] = [];
  /** Confirm requests that did not get through because `connected` was false. */
  refusedConfirmRequests: DeployConfirmRequest[] = [];
  connected = true;
  /** Called with each result as it is delivered (as a controller that answers at once). */
  onResult: ((result: DeployResult) => void) | undefined;
  send(message: DeployProgress | DeployLog): void {
    this.messages.push(message);
  }
  deliverResult(result: DeployResult): Promise<void> {
    this.results.push(DeployResult.parse(result));
    this.onResult?.(result);
    return Promise.resolve();
  }
  sendNow(message: DeployConfirmRequest): boolean {
    (this.connected ? this.confirmRequests : this.refusedConfirmRequests).push(message);
    return this.connected;
  }
  hasResult(deploymentId: string): boolean {
    return this.results.some((r) => r.deploymentId === deploymentId);
  }
  phases(): string[] {
    return this.messages.flatMap((m) => (m.type === 'deploy.progress' ? [m.phase] : []));
  }
  lines(): string[] {
    return this.messages.flatMap((m) =>
      m.type === 'deploy.log' ? m.lines.map((l) => l.line) : [],
    );
  }
}
