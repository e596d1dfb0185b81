import type {
  ActivationPlan,
  ClosureDiff,
  ErrorCode,
  PlanRequest,
  PlanResult,
  RebootChange,
} from '@flotilla/protocol';
import { SerialQueue, type Clock, type Logger } from '@flotilla/runtime';
import { checkRunnable } from '../deploy/closure-trust.js';
import type { SystemStore } from '../deploy/nix-store.js';
import type { FactsCollector } from '../facts/facts-collector.js';
import { parseDiffClosures } from './closure-diff.js';
import { parseDryActivate } from './dry-activate.js';
import type { PlanTools } from './plan-tools.js';

export interface PlanPreparerOptions {
  /** False when the agent's own config turns prefetching off: requests are answered so. */
  enabled: boolean;
  /** The deployments' store: the same fetch, signature check and GC roots. */
  store: SystemStore;
  tools: PlanTools;
  host: Pick<FactsCollector, 'currentSystem' | 'bootChangesFor'>;
  /** The system profile (its generations count as trusted, as for a deployment). */
  profile: string;
  /**
   * The GC root that keeps the prepared closure until the next plan replaces it: a host
   * has at most one deployment waiting, so one root is enough.
   */
  gcRoot: string;
  /** The deployment the executor works on now, if any. */
  activeDeploymentId: () => string | null;
  /** Sends the answer; false when the connection is down (the controller asks again). */
  send: (message: PlanResult) => boolean;
  clock: Clock;
  logger: Logger;
}

/** A preparation that ended early, with the code the controller stores. */
class PlanFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Prepares waiting deployments, one at a time: fetches the closure from the controller's
 * cache exactly as a deployment's fetch step does (same credential, same signature check,
 * and a deployment that starts meanwhile joins the same copy), keeps it with a GC root, and
 * works out what it changes — the closure difference against the running system, what
 * `dry-activate` says activation would do, and whether the kernel or initrd needs a reboot.
 * Nothing on the host changes. A fetched closure makes the approved deployment start at
 * once: its fetch step finds the path in the store.
 */
export class PlanPreparer {
  private readonly queue = new SerialQueue();
  /** Deployments whose preparation is queued or running; a repeated request waits for it. */
  private readonly underWay = new Set<string>();

  constructor(private readonly options: PlanPreparerOptions) {}

  /** Queues a preparation; its answer is sent when done. Never rejects. */
  handle(request: PlanRequest): void {
    if (this.underWay.has(request.deploymentId)) return;
    this.underWay.add(request.deploymentId);
    void this.queue.run(async () => {
      const result = await this.prepare(request);
      this.underWay.delete(request.deploymentId);
      if (!this.options.send(result)) {
        this.options.logger.info(
          'plan ready but not sent (disconnected); the controller asks again',
          {
            deploymentId: request.deploymentId,
          },
        );
      }
    });
  }

  /** Resolves once every preparation asked for so far has been answered. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Prepares one deployment and says what it found, or why it could not. Never rejects. */
  async prepare(request: PlanRequest): Promise<PlanResult> {
    const { deploymentId, storePath } = request;
    const logger = this.options.logger.child({ deploymentId, storePath });
    try {
      const plan = await this.work(request, logger);
      logger.info('plan prepared', {
        fetched: plan.fetched,
        totalMs: plan.timings.totalMs,
        rebootRequired: plan.reboot.required,
      });
      return { type: 'plan.result', deploymentId, storePath, plan, error: null };
    } catch (error) {
      const failure =
        error instanceof PlanFailure
          ? error
          : new PlanFailure(
              'internal_error',
              `preparing the plan failed: ${error instanceof Error ? error.message : String(error)}`,
            );
      logger.warn('no plan', { code: failure.code, reason: failure.message });
      const body = { code: failure.code, message: failure.message };
      return { type: 'plan.result', deploymentId, storePath, plan: null, error: body };
    }
  }

  private async work(request: PlanRequest, logger: Logger): Promise<ActivationPlan> {
    const { enabled, store, tools, host, profile, clock } = this.options;
    const { storePath } = request;
    if (!enabled) {
      throw new PlanFailure(
        'prefetch_disabled',
        "this host's agent config turns prefetching off (prefetch: off)",
      );
    }
    if (this.options.activeDeploymentId() === request.deploymentId) {
      throw new PlanFailure('deployment_started', 'the deployment is running already');
    }
    const started = clock.now().getTime();
    const fetchMs = await this.fetch(request, logger);
    const trusted = await checkRunnable(store, profile, storePath);
    if (!trusted.ok) throw new PlanFailure(trusted.code ?? 'untrusted_closure', trusted.reason);
    const pinned = await store.pin([storePath], this.options.gcRoot);
    if (!pinned.ok) logger.warn('cannot pin the prepared closure', { reason: pinned.reason });

    const current = await host.currentSystem();
    const diffStarted = clock.now().getTime();
    const closure = current === null ? null : await this.closureDiff(current, storePath, logger);
    const diffMs = clock.now().getTime() - diffStarted;

    // `boot` activates nothing now: there is nothing for dry-activate to tell.
    let activation: ActivationPlan['activation'] = null;
    let dryActivateMs: number | null = null;
    if (request.action !== 'boot') {
      const dryStarted = clock.now().getTime();
      const dry = await tools.dryActivate(storePath);
      dryActivateMs = clock.now().getTime() - dryStarted;
      if (!dry.ok) throw new PlanFailure('dry_activate_failed', dry.reason);
      activation = { ...parseDryActivate(dry.value.lines), exitCode: dry.value.exitCode };
    }
    const reboot = await this.rebootChange(storePath);
    const now = clock.now();
    return {
      storePath,
      currentSystem: current,
      closure,
      activation,
      reboot,
      fetched: fetchMs !== null,
      timings: { fetchMs: fetchMs ?? 0, diffMs, dryActivateMs, totalMs: now.getTime() - started },
      preparedAt: now.toISOString(),
    };
  }

  /** Copies the closure unless it is in the store already; how long the copy took (ms), or null. */
  private async fetch(request: PlanRequest, logger: Logger): Promise<number | null> {
    const { store, clock } = this.options;
    const { storePath, cache } = request;
    if (await store.isValid(storePath)) return null;
    if (cache === null) {
      throw new PlanFailure(
        'fetch_failed',
        `${storePath} is not in the store and no binary cache was given`,
      );
    }
    logger.info('prefetching the closure');
    const started = clock.now().getTime();
    const fetched = await store.fetch(cache, storePath, (stream, line) =>
      logger.debug('nix copy', { stream, line }),
    );
    if (!fetched.ok) throw new PlanFailure(fetched.code ?? 'fetch_failed', fetched.reason);
    return clock.now().getTime() - started;
  }

  private async closureDiff(current: string, next: string, logger: Logger): Promise<ClosureDiff> {
    const { tools } = this.options;
    const diff = await tools.diffClosures(current, next);
    if (!diff.ok) throw new PlanFailure('closure_diff_failed', diff.reason);
    const { unparsed, ...lists } = parseDiffClosures(diff.value);
    if (unparsed.length > 0) {
      logger.warn('diff-closures printed lines that were not understood', {
        lines: unparsed.slice(0, 5),
      });
    }
    const sizes = await tools.closureSizes([current, next]);
    const before = sizes.get(current);
    const after = sizes.get(next);
    return {
      ...lists,
      sizeDelta: before === undefined || after === undefined ? null : after - before,
      closureSize: after ?? null,
    };
  }

  private async rebootChange(system: string): Promise<RebootChange> {
    const boot = await this.options.host.bootChangesFor(system);
    if (boot === null) return { required: null, changed: [], bootedSystem: null };
    return {
      required: boot.changed.length > 0,
      changed: boot.changed,
      bootedSystem: boot.bootedSystem,
    };
  }
}
