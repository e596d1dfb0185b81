import { join } from 'node:path';
import type {
  DeployRequest,
  Facts,
  HealthCheck,
  HostMode,
  PlanRequest,
  RebootRequest,
  Welcome,
} from '@flotilla/protocol';
import { systemClock, type CancelTimer, type Clock } from '@flotilla/runtime';
import { ControllerConnection, type ControllerConnectionOptions } from './connection.js';
import type { Activator } from './deploy/activator.js';
import { DeploymentExecutor } from './deploy/deployment-executor.js';
import { DeploymentOutbox } from './deploy/deployment-outbox.js';
import type { HealthChecker } from './deploy/health-checks.js';
import { JournalStore } from './deploy/journal.js';
import type { SystemStore } from './deploy/nix-store.js';
import { factsChanged } from './facts/facts-change.js';
import type { FactsCollector } from './facts/facts-collector.js';
import type { Logger } from '@flotilla/runtime';
import type { ProcessRunner } from '@flotilla/runtime';
import { PlanPreparer } from './plan/plan-preparer.js';
import type { PlanTools } from './plan/plan-tools.js';
import { RebootManager } from './reboot/reboot-manager.js';

export interface AgentOptions {
  mode: HostMode;
  /** How to reach the controller; the agent supplies the handlers and the hello's state. */
  connection: Omit<ControllerConnectionOptions, 'handlers' | 'helloState'>;
  facts: FactsCollector;
  store: SystemStore;
  activator: Activator;
  health: HealthChecker;
  /** Run after each activation; from the agent's own config only. */
  healthChecks: readonly HealthCheck[];
  /** The system profile deployments set. */
  profile: string;
  /**
   * Holds the deployment journal (`deployment.json`), undelivered results (`results/`),
   * GC roots of a pending deployment (`gcroots/`) and a pending reboot (`reboot.json`).
   */
  stateDir: string;
  reboot: {
    /** Program and arguments run to reboot. */
    command: readonly string[];
    runner: ProcessRunner;
    env: Record<string, string>;
  };
  logger: Logger;
  clock?: Clock;
  /** How often facts are re-read to notice changes made outside the agent (ms). */
  factsIntervalMs?: number;
  /**
   * Preparing waiting deployments (prefetch and plan); `enabled: false` (the agent's own
   * config) answers every request with `prefetch_disabled`.
   */
  plans: { enabled: boolean; tools: PlanTools };
}

/** The hello carries at most this many unacknowledged result ids. */
const MAX_HELLO_RESULTS = 100;

/**
 * One host's agent: keeps the controller connection, reports facts when they change and
 * metrics with every heartbeat, runs the deployments the controller asks for (carrying an
 * interrupted one on after a restart) and reboots on request.
 */
export class Agent {
  readonly connection: ControllerConnection;
  readonly outbox: DeploymentOutbox;
  readonly executor: DeploymentExecutor;
  readonly reboots: RebootManager;
  readonly plans: PlanPreparer;
  private readonly clock: Clock;
  private lastSentFacts: Facts | null = null;
  /** Fact refreshes run one after another; this is the tail of that chain. */
  private factsChain: Promise<void> = Promise.resolve();
  private heartbeatSeq = 0;
  private cancelHeartbeat: CancelTimer | null = null;
  private cancelFactsTimer: CancelTimer | null = null;
  private stopped = false;

  constructor(private readonly options: AgentOptions) {
    this.clock = options.clock ?? systemClock;
    const { logger, stateDir } = options;
    this.connection = new ControllerConnection({
      ...options.connection,
      helloState: () => ({
        activeDeploymentId: this.executor.activeDeploymentId,
        unacknowledgedResults: this.outbox.unacknowledgedIds().slice(-MAX_HELLO_RESULTS),
      }),
      handlers: {
        onReady: (welcome) => this.onReady(welcome),
        onDeployRequest: (request) => this.onDeployRequest(request),
        onDeployConfirm: (deploymentId) => this.executor.confirm(deploymentId),
        onRebootRequest: (request) => this.onRebootRequest(request),
        onPlanRequest: (request) => this.onPlanRequest(request),
        onResultAcknowledged: (deploymentId) => void this.outbox.acknowledge(deploymentId),
        onDown: () => this.onDown(),
      },
    });
    this.outbox = new DeploymentOutbox({
      sink: this.connection,
      resultsDir: join(stateDir, 'results'),
      logger,
    });
    this.executor = new DeploymentExecutor({
      mode: options.mode,
      profile: options.profile,
      journal: new JournalStore(join(stateDir, 'deployment.json')),
      gcRootsDir: join(stateDir, 'gcroots'),
      store: options.store,
      activator: options.activator,
      host: options.facts,
      health: options.health,
      healthChecks: options.healthChecks,
      reporter: this.outbox,
      clock: this.clock,
      logger,
      onFinished: () => void this.refreshFacts(),
    });
    this.plans = new PlanPreparer({
      enabled: options.plans.enabled,
      store: options.store,
      tools: options.plans.tools,
      host: options.facts,
      profile: options.profile,
      gcRoot: join(stateDir, 'gcroots', 'plan'),
      activeDeploymentId: () => this.executor.activeDeploymentId,
      send: (message) => this.connection.send(message),
      clock: this.clock,
      logger,
    });
    this.reboots = new RebootManager({
      mode: options.mode,
      stateFile: join(stateDir, 'reboot.json'),
      readBootId: () => options.facts.bootId(),
      command: options.reboot.command,
      runner: options.reboot.runner,
      env: options.reboot.env,
      send: (message) => this.connection.send(message),
      activeDeployment: () => this.executor.activeDeploymentId,
      logger,
    });
  }

  /**
   * Loads undelivered results, a pending reboot and the deployment journal (an
   * interrupted deployment carries on in the background), then starts connecting, so the
   * hello already names what the agent is doing.
   */
  async start(): Promise<void> {
    await this.outbox.load();
    await this.reboots.load();
    await this.executor.resume();
    this.connection.start();
    this.scheduleFactsRefresh();
  }

  /** Stops timers and closes the connection. A running activation goes on by itself. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelFactsTimer?.();
    this.cancelHeartbeat?.();
    const active = this.executor.activeDeploymentId;
    if (active !== null) {
      this.options.logger.info('stopping during a deployment; it continues at the next start', {
        deploymentId: active,
      });
    }
    await this.executor.stop();
    await this.connection.stop();
  }

  /** Re-reads facts (sending them if anything but metrics changed) and notices a reboot. Never rejects. */
  refreshFacts(): Promise<void> {
    this.factsChain = this.factsChain.then(() => this.refreshFactsOnce());
    return this.factsChain;
  }

  private async refreshFactsOnce(): Promise<void> {
    try {
      await this.reboots.check();
    } catch (error) {
      this.options.logger.error('cannot check for a reboot', { error });
    }
    let facts: Facts;
    try {
      facts = await this.options.facts.collect();
    } catch (error) {
      this.options.logger.error('cannot collect facts', { error });
      return;
    }
    if (!factsChanged(this.lastSentFacts, facts)) return;
    if (this.connection.send({ type: 'facts', facts })) {
      this.options.logger.debug('sent facts', { current: facts.system.current });
      this.lastSentFacts = facts;
    }
  }

  private scheduleFactsRefresh(): void {
    if (this.stopped) return;
    this.cancelFactsTimer = this.clock.setTimer(() => {
      void this.refreshFacts().then(() => this.scheduleFactsRefresh());
    }, this.options.factsIntervalMs ?? 30_000);
  }

  /**
   * Order after a welcome: undelivered results first, then a reboot's outcome, a pending
   * confirm request, facts, and finally heartbeats.
   */
  private onReady(welcome: Welcome): void {
    this.outbox.drain();
    void this.reboots.flush().catch((error: unknown) => {
      this.options.logger.error('cannot report the reboot', { error });
    });
    this.executor.onConnected();
    this.lastSentFacts = null;
    const generation = this.connection.generation;
    const intervalMs = welcome.heartbeatIntervalSeconds * 1000;
    void this.refreshFacts().then(() => {
      if (this.connection.isReady && this.connection.generation === generation) {
        this.scheduleHeartbeat(generation, intervalMs);
      }
    });
  }

  private onDown(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = null;
  }

  private onDeployRequest(request: DeployRequest): void {
    this.options.logger.info('deployment requested', {
      deploymentId: request.deploymentId,
      storePath: request.storePath,
      action: request.action,
    });
    void this.executor.handle(request);
  }

  private onPlanRequest(request: PlanRequest): void {
    this.options.logger.info('plan requested', {
      deploymentId: request.deploymentId,
      storePath: request.storePath,
    });
    this.plans.handle(request);
  }

  private onRebootRequest(request: RebootRequest): void {
    this.options.logger.info('reboot requested', { requestId: request.requestId });
    // A facts refresh right after the command returns notices a reboot that did not kill
    // the agent (a sandboxed one) and reports the new boot.
    void this.reboots
      .handle(request)
      .catch((error: unknown) => this.options.logger.error('reboot failed', { error }))
      .then(() => this.refreshFacts());
  }

  private scheduleHeartbeat(generation: number, intervalMs: number): void {
    this.cancelHeartbeat = this.clock.setTimer(() => {
      void this.sendHeartbeat().then(() => {
        if (this.connection.isReady && this.connection.generation === generation) {
          this.scheduleHeartbeat(generation, intervalMs);
        }
      });
    }, intervalMs);
  }

  private async sendHeartbeat(): Promise<void> {
    let metrics;
    try {
      metrics = await this.options.facts.collectMetrics();
    } catch (error) {
      // A heartbeat without metrics still tells the controller the host is alive.
      this.options.logger.warn('cannot collect metrics', { error });
    }
    const seq = this.heartbeatSeq++;
    this.connection.send({ type: 'heartbeat', seq, ...(metrics === undefined ? {} : { metrics }) });
  }
}
