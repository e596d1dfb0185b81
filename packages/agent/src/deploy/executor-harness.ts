/** An executor wired to the stand-ins of test-stand-ins.ts, for its unit tests. */
import { join } from 'node:path';
import type { DeployRequest, HealthCheck, HostMode } from '@flotilla/protocol';
import { Logger, ManualClock } from '@flotilla/runtime';
import { DeploymentExecutor } from './deployment-executor.js';
import { JournalStore } from './journal.js';
import {
  FakeActivator,
  FakeHealth,
  FakeHost,
  FakeReporter,
  FakeStore,
  NEW,
} from './test-stand-ins.js';

/** Polls until `condition` holds (the executor works through real file writes). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const quiet = new Logger({ level: 'error', output: { write: () => true } });

/** A deploy request for {@link NEW} with a 30 s confirm timeout. */
export function deployRequest(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    type: 'deploy.request',
    deploymentId: 'd1',
    storePath: NEW,
    action: 'switch',
    cache: null,
    confirmTimeoutSeconds: 30,
    ...overrides,
  };
}

/** An executor wired to the stand-ins, with a journal in `dir`, that can be "restarted". */
export class Harness {
  readonly clock = new ManualClock();
  readonly host = new FakeHost();
  readonly store = new FakeStore(this.host);
  readonly activator = new FakeActivator(this.host);
  readonly health = new FakeHealth();
  readonly reporter = new FakeReporter();
  readonly journal: JournalStore;
  finished = 0;
  executor: DeploymentExecutor;

  constructor(
    dir: string,
    private readonly mode: HostMode = 'managed',
    /** The agent config's health checks. */
    private readonly healthChecks: HealthCheck[] = [],
  ) {
    this.journal = new JournalStore(join(dir, 'deployment.json'));
    this.executor = this.create();
  }

  /** Stops the executor as a dying agent would, and starts a new one on the same journal. */
  async restart(): Promise<void> {
    await this.executor.stop();
    this.executor = this.create();
    await this.executor.resume();
  }

  async journalPhase(): Promise<string> {
    const loaded = await this.journal.load();
    return loaded.kind === 'loaded' ? loaded.journal.phase : loaded.kind;
  }

  /** The phase last announced to the controller. */
  lastPhase(): string | undefined {
    return this.reporter.phases().at(-1);
  }

  private create(): DeploymentExecutor {
    return new DeploymentExecutor({
      mode: this.mode,
      profile: '/p/system',
      journal: this.journal,
      gcRootsDir: '/state/gcroots',
      store: this.store,
      activator: this.activator,
      host: this.host,
      health: this.health,
      healthChecks: this.healthChecks,
      reporter: this.reporter,
      clock: this.clock,
      logger: quiet,
      onFinished: () => this.finished++,
    });
  }
}
