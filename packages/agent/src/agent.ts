import type { DeployRequest, Facts, HostMode, Welcome } from '@flotilla/protocol';
import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { ControllerConnection, type ControllerConnectionOptions } from './connection.js';
import type { Activator } from './deploy/activator.js';
import { DeploymentExecutor } from './deploy/deployment-executor.js';
import { DeploymentOutbox } from './deploy/deployment-outbox.js';
import type { SystemStore } from './deploy/nix-store.js';
import { factsChanged } from './facts/facts-change.js';
import type { FactsCollector } from './facts/facts-collector.js';
import type { Logger } from './logger.js';

export interface AgentOptions {
  mode: HostMode;
  /** How to reach the controller; the agent supplies the handlers. */
  connection: Omit<ControllerConnectionOptions, 'handlers'>;
  facts: FactsCollector;
  store: SystemStore;
  activator: Activator;
  /** The system profile deployments set. */
  profile: string;
  /** Where undelivered deployment results are kept. */
  resultsDir: string;
  logger: Logger;
  clock?: Clock;
  /** How often facts are re-read to notice changes made outside the agent (ms). */
  factsIntervalMs?: number;
}

/**
 * One host's agent: keeps the controller connection, reports facts when they change and
 * metrics with every heartbeat, and runs the deployments the controller asks for.
 */
export class Agent {
  readonly connection: ControllerConnection;
  readonly outbox: DeploymentOutbox;
  readonly executor: DeploymentExecutor;
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
    this.connection = new ControllerConnection({
      ...options.connection,
      handlers: {
        onReady: (welcome) => this.onReady(welcome),
        onDeployRequest: (request) => this.onDeployRequest(request),
        onResultAcknowledged: (deploymentId) => void this.outbox.acknowledge(deploymentId),
        onDown: () => this.onDown(),
      },
    });
    this.outbox = new DeploymentOutbox({
      sink: this.connection,
      resultsDir: options.resultsDir,
      logger: options.logger,
    });
    this.executor = new DeploymentExecutor({
      mode: options.mode,
      profile: options.profile,
      store: options.store,
      activator: options.activator,
      readCurrentSystem: () => options.facts.currentSystem(),
      reporter: this.outbox,
      clock: this.clock,
      logger: options.logger,
      onFinished: () => void this.refreshFacts(),
    });
  }

  /** Loads undelivered results, then starts connecting. */
  async start(): Promise<void> {
    await this.outbox.load();
    this.connection.start();
    this.scheduleFactsRefresh();
  }

  /** Stops timers and closes the connection. A running activation is left to finish on its own. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelFactsTimer?.();
    this.cancelHeartbeat?.();
    const running = this.executor.running;
    if (running !== null) {
      this.options.logger.warn('stopping while a deployment runs; its result will be lost', {
        deploymentId: running,
      });
    }
    await this.connection.stop();
  }

  /** Re-reads facts and sends them if anything but metrics changed. Never rejects. */
  refreshFacts(): Promise<void> {
    this.factsChain = this.factsChain.then(() => this.refreshFactsOnce());
    return this.factsChain;
  }

  private async refreshFactsOnce(): Promise<void> {
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

  /** Order after a welcome: undelivered results first, then facts, then heartbeats. */
  private onReady(welcome: Welcome): void {
    this.outbox.drain();
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
