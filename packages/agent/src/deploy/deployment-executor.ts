import type { DeployRequest, ErrorCode, HealthCheck, HostMode } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from '@flotilla/runtime';
import type { Activator } from './activator.js';
import { ConfirmationGate } from './confirmation-gate.js';
import { runDeployment } from './deployment-flow.js';
import {
  DeploymentRun,
  type DeploymentReporter,
  type FlowDeps,
  type HostState,
} from './deployment-run.js';
import type { HealthChecker } from './health-checks.js';
import type { DeploymentJournal, JournalStore } from './journal.js';
import type { SystemStore } from './nix-store.js';
import { finalize } from './steps/finish.js';

export type { DeploymentReporter } from './deployment-run.js';

export interface DeploymentExecutorOptions {
  mode: HostMode;
  profile: string;
  journal: JournalStore;
  /** Where pending closures are pinned against garbage collection. */
  gcRootsDir: string;
  store: SystemStore;
  activator: Activator;
  host: HostState;
  health: HealthChecker;
  /** The checks of the agent's own config; deploy requests never carry any. */
  healthChecks: readonly HealthCheck[];
  reporter: DeploymentReporter;
  clock: Clock;
  logger: Logger;
  /** Called after every deployment that finished, e.g. to report the new facts. */
  onFinished?: () => void;
}

/** How long `stop` waits for a step that cannot be interrupted (a fetch, a health check). */
const STOP_GRACE_MS = 3000;

/**
 * Runs one deployment at a time through its phases (see deployment-flow.ts), keeping a
 * journal on disk so that a restarted agent carries on where its predecessor stopped.
 */
export class DeploymentExecutor {
  private activeId: string | null = null;
  private lastFinishedId: string | null = null;
  private flow: Promise<void> | null = null;
  private activeRun: DeploymentRun | null = null;
  private readonly abort = new AbortController();
  private readonly gate: ConfirmationGate;

  constructor(private readonly options: DeploymentExecutorOptions) {
    this.gate = new ConfirmationGate((message) => options.reporter.sendNow(message));
  }

  /** The deployment in progress (not finished), if any; announced in the hello. */
  get activeDeploymentId(): string | null {
    return this.activeId;
  }

  /** Alias of {@link activeDeploymentId}. */
  get running(): string | null {
    return this.activeId;
  }

  /**
   * Reads the journal and carries an unfinished deployment on in the background. Call
   * once before connecting, so the hello can name it.
   */
  async resume(): Promise<void> {
    const { journal: journals, logger, reporter } = this.options;
    const loaded = await journals.load();
    if (loaded.kind === 'unreadable') {
      logger.error('the deployment journal is unreadable; moved it aside', {
        file: loaded.movedTo,
      });
    }
    if (loaded.kind !== 'loaded') return;
    const journal = loaded.journal;
    if (journal.phase === 'finished') {
      this.lastFinishedId = journal.deploymentId;
      return;
    }
    const run = this.newRun(journal);
    const deps = this.deps();
    if (reporter.hasResult(journal.deploymentId)) {
      // It ended just before the restart; only the bookkeeping was left.
      void this.startFlow(run, () => finalize(run, deps, null));
      return;
    }
    run.say(`the agent restarted; continuing the deployment (${journal.phase})`);
    run.announce();
    void this.startFlow(run, () => runDeployment(run, deps));
  }

  /**
   * Handles a request: refuses it (monitor mode, another deployment in progress), ignores
   * a repeat of the current or last one, or runs it to the end. Never rejects.
   */
  async handle(request: DeployRequest): Promise<void> {
    const logger = this.options.logger.child({ deploymentId: request.deploymentId });
    if (this.options.mode === 'monitor') {
      logger.warn('refusing deployment: this host is monitor-only');
      return this.refuse(request, 'host_not_managed', 'this host is monitor-only (mode monitor)');
    }
    if (this.activeId === request.deploymentId) {
      // A repeated request (e.g. after a reconnect): the flow goes on and its result will follow.
      logger.info('deployment is already in progress; ignoring the repeated request');
      return;
    }
    if (this.activeId !== null && this.activeRun?.delivered && this.flow) {
      // The last one's result is out and only its clean-up is left: the next waits for it,
      // since a controller sends the next deployment as soon as it has the result.
      await this.flow;
    }
    if (this.activeId !== null) {
      logger.warn('refusing deployment: another one is in progress', { active: this.activeId });
      return this.refuse(request, 'agent_busy', `deployment ${this.activeId} is still in progress`);
    }
    if (this.lastFinishedId === request.deploymentId) {
      logger.info('deployment already finished here; ignoring the repeated request');
      return;
    }
    this.activeId = request.deploymentId;
    let run: DeploymentRun;
    try {
      run = await this.begin(request);
    } catch (error) {
      this.activeId = null;
      logger.error('cannot start the deployment', { error });
      const message = `cannot start: ${error instanceof Error ? error.message : String(error)}`;
      return this.options.reporter.deliverResult({
        type: 'deploy.result',
        deploymentId: request.deploymentId,
        outcome: 'failed',
        exitCode: null,
        error: { code: 'internal_error', message },
        currentSystem: null,
      });
    }
    const deps = this.deps();
    return this.startFlow(run, () => runDeployment(run, deps));
  }

  /** The controller confirmed a deployment (`deploy.confirm`). */
  confirm(deploymentId: string): void {
    const logger = this.options.logger.child({ deploymentId });
    if (this.gate.confirm(deploymentId)) return;
    if (this.activeId === deploymentId) {
      // Health checks are still running (e.g. after a restart); the request follows them.
      logger.info('confirmation arrived before the agent asked for it; ignoring it');
    } else {
      logger.warn('confirmation for a deployment that is not waiting for one; ignoring it');
    }
  }

  /** Call after every welcome: a pending confirm request is sent again. */
  onConnected(): void {
    this.gate.resend();
  }

  /** Stops following the deployment; it carries on after the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    // A profile lock taken ahead would otherwise be held until this process exits.
    await this.activeRun?.releaseProfileLock();
    const flow = this.flow;
    if (flow === null) return;
    await Promise.race([
      flow,
      new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref()),
    ]);
  }

  /** Resolves when the current deployment's flow has ended (for tests and shutdown). */
  async idle(): Promise<void> {
    await this.flow;
  }

  private async begin(request: DeployRequest): Promise<DeploymentRun> {
    const previousSystem = await this.options.host.currentSystem();
    const now = this.options.clock.now().getTime();
    const journal: DeploymentJournal = {
      version: 1,
      deploymentId: request.deploymentId,
      storePath: request.storePath,
      action: request.action,
      cache: request.cache,
      previousSystem,
      phase: 'fetching',
      confirmTimeoutSeconds: request.confirmTimeoutSeconds,
      confirmDeadline: null,
      healthChecks: [...this.options.healthChecks],
      failedUnitsBefore: null,
      health: null,
      profileChanged: false,
      activation: null,
      activationExitCode: null,
      rebootRequired: false,
      rollbackReason: null,
      error: null,
      outcome: null,
      phaseTimes: {},
      createdAt: now,
      updatedAt: now,
    };
    const run = this.newRun(journal);
    run.say(`deploying ${request.storePath} (${request.action})`);
    run.say(`previous system: ${previousSystem ?? 'none (fresh host)'}`);
    // Not synced: fetching changes nothing on the host, and every later step writes durably
    // before it does. Lost to a power cut, the deployment is one the agent never received,
    // and the controller sends it again (see its `reconcile`).
    await run.enter('fetching', {}, { durable: false });
    return run;
  }

  private startFlow(run: DeploymentRun, body: () => Promise<void>): Promise<void> {
    this.activeId = run.id;
    this.activeRun = run;
    const flow = body()
      .catch((error: unknown) => run.logger.error('deployment flow failed', { error }))
      .finally(() => {
        if (run.journal.phase !== 'finished') return; // stopped; resumed after the next start
        this.activeId = null;
        this.lastFinishedId = run.id;
        this.options.onFinished?.();
      });
    this.flow = flow;
    return flow;
  }

  private newRun(journal: DeploymentJournal): DeploymentRun {
    const { journal: journals, reporter, clock, logger } = this.options;
    return new DeploymentRun(journal, { journals, reporter, clock, logger });
  }

  private deps(): FlowDeps {
    const { profile, gcRootsDir, store, activator, host, health, clock } = this.options;
    return {
      profile,
      gcRootsDir,
      store,
      activator,
      host,
      health,
      gate: this.gate,
      clock,
      signal: this.abort.signal,
    };
  }

  private refuse(request: DeployRequest, code: ErrorCode, message: string): Promise<void> {
    return this.options.reporter.deliverResult({
      type: 'deploy.result',
      deploymentId: request.deploymentId,
      outcome: 'refused',
      exitCode: null,
      error: { code, message },
      currentSystem: null,
    });
  }
}
