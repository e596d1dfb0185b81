import {
  FINAL_DEPLOYMENT_STATUSES,
  FlotillaError,
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  WAITING_DEPLOYMENT_STATUSES,
  type AgentFeature,
  type CacheSource,
  type ErrorCode,
  type Facts,
  type PlanResult,
  type PlanState,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from 'pino';
import type { HostSettings } from '../config.js';
import type { LiveHost, PresenceService } from '../hosts/presence.service.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { PlanChanges, PlanRow } from '../storage/plan.repository.js';
import type { Store } from '../storage/store.js';
import type { LiveEvents } from '../events/event-bus.js';

export interface PlanServiceOptions {
  store: Store;
  presence: Pick<PresenceService, 'get' | 'send'>;
  /** The cache an agent fetches from, given the base URL it connected to. */
  cacheSource: (agentBaseUrl: string | null) => CacheSource | null;
  hostSettings: Readonly<Record<string, Pick<HostSettings, 'prefetch'>>>;
  clock: Clock;
  logger: Logger;
  /** Tells the web UI an approval's plan arrived (`approvals.changed`). */
  live?: LiveEvents;
}

/** What an agent announces in its hello when it answers `plan.request`. */
const PLAN_FEATURE: AgentFeature = 'plan';

/** A failed plan is asked for again on a later connection, this many times in all. */
const MAX_ATTEMPTS = 3;
/** Failures worth another try (the cache was down, the host was busy); not a bad signature. */
const RETRYABLE: ReadonlySet<string> = new Set<ErrorCode>([
  'fetch_failed',
  'closure_diff_failed',
  'dry_activate_failed',
  'internal_error',
]);
/** Agent answers that mean "no plan to be had" rather than "preparing it failed". */
const UNAVAILABLE: ReadonlySet<string> = new Set<ErrorCode>([
  'prefetch_disabled',
  'deployment_started',
  'agent_unsupported',
]);

const REASONS = {
  notAsked: 'not asked yet',
  offline: 'the host is offline; its agent is asked once it connects',
  prefetchOff:
    "prefetching is off for this host (hosts.<name>.prefetch in the controller's config)",
} as const;

/** What to do about one waiting deployment's plan. */
type Step = { kind: 'keep' } | { kind: 'set'; changes: PlanChanges } | { kind: 'ask' };

/**
 * Which connection (the presence entry, one per connection), and which running system, a
 * plan was last asked for on.
 */
interface Asked {
  host: string;
  connection: LiveHost;
  current: string | null;
}

/**
 * Activation plans: what each waiting deployment will change, prepared by its host's agent
 * ahead of the decision. A deployment that starts waiting gets a `pending` plan, and its
 * agent is asked (once connected, if it announced the `plan` feature and prefetching is on
 * for the host); the answer makes it `ready` or `failed`. A plan the host has moved on from
 * (its running system changed) is asked for again, as is a missing or failed one after a
 * reconnect. Plans only inform people: nothing here reads or changes an approval, a gate or
 * a deployment's status.
 */
export class PlanService {
  /** Per host, the refresh under way (refreshes of one host run one after another). */
  private readonly refreshing = new Map<string, Promise<void>>();
  /** Per deployment, where its plan was last asked for. */
  private readonly asked = new Map<string, Asked>();

  constructor(private readonly options: PlanServiceOptions) {}

  /**
   * Called in the transaction that records a deployment's creation or move. A deployment
   * created waiting gets its plan row; its agent is asked once that transaction commits
   * when it waits for a person, or once the rollout's gates hold it (a wave, a soak, a
   * window) — an approved deployment nothing holds starts at once, and preparing it would
   * only race its own fetch. One that ends, or starts before its agent was ever asked,
   * leaves a pending plan unavailable.
   */
  async onRecorded(tx: Store, row: DeploymentRow, created: boolean): Promise<void> {
    const at = this.options.clock.now().toISOString();
    if (WAITING_DEPLOYMENT_STATUSES.includes(row.status)) {
      if (created) {
        const off = !this.prefetchOn(row.host_name);
        await tx.plans.insertIfAbsent({
          deploymentId: row.id,
          host: row.host_name,
          storePath: row.store_path,
          state: off ? 'unavailable' : 'pending',
          code: off ? 'prefetch_disabled' : null,
          reason: off ? REASONS.prefetchOff : REASONS.notAsked,
          at,
        });
      }
      if (waitsLong(row) && this.prefetchOn(row.host_name)) {
        tx.afterCommit(() => void this.refreshHost(row.host_name));
      }
      return;
    }
    if (FINAL_DEPLOYMENT_STATUSES.has(row.status)) {
      this.asked.delete(row.id);
      await tx.plans.update(
        row.id,
        {
          state: 'unavailable',
          code: 'deployment_ended',
          reason: `the deployment ended (${row.status}) before its plan was ready`,
          updated_at: at,
        },
        { states: ['pending'] },
      );
    } else if (IN_FLIGHT_DEPLOYMENT_STATUSES.includes(row.status)) {
      await tx.plans.update(
        row.id,
        {
          state: 'unavailable',
          code: 'deployment_started',
          reason: 'the deployment started before its agent was asked for a plan',
          updated_at: at,
        },
        { states: ['pending'], unasked: true },
      );
    }
  }

  /**
   * Looks at the host's waiting deployments and asks its agent for the plans it should
   * prepare: missing or pending ones not asked on this connection, failed ones worth
   * another try, ready ones the host has moved on from. Called after a deployment starts
   * waiting, when the agent connects and when its facts change. Never rejects.
   */
  refreshHost(host: string): Promise<void> {
    const previous = this.refreshing.get(host) ?? Promise.resolve();
    const next = previous
      .then(() => this.refreshOnce(host))
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, host }, 'refreshing activation plans failed'),
      );
    this.refreshing.set(host, next);
    void next.then(() => {
      if (this.refreshing.get(host) === next) this.refreshing.delete(host);
    });
    return next;
  }

  /**
   * The host reported facts. When it runs another system than it said before (or says so
   * for the first time on this connection), plans made against the old one are asked for
   * again. Never rejects.
   */
  onFacts(host: string, previousCurrent: string | null | undefined, facts: Facts): Promise<void> {
    if (facts.system.current === previousCurrent) return Promise.resolve();
    return this.refreshHost(host);
  }

  /** Resolves once every refresh under way has finished (for tests and tools). */
  async idle(): Promise<void> {
    while (this.refreshing.size > 0) await Promise.all([...this.refreshing.values()]);
  }

  /** Stores the agent's answer: a plan, or why there is none. */
  async onResult(host: string, message: PlanResult): Promise<void> {
    const { store, clock, logger } = this.options;
    const deployment = await store.deployments.findById(message.deploymentId);
    if (!deployment || deployment.host_name !== host) {
      throw new FlotillaError(
        'deployment_not_found',
        `no deployment "${message.deploymentId}" for host "${host}"`,
      );
    }
    const row = await store.plans.find(deployment.id);
    if (!row || row.store_path !== message.storePath) {
      logger.warn({ host, deploymentId: deployment.id }, 'plan answer for no plan asked; ignored');
      return;
    }
    const at = clock.now().toISOString();
    const changes: PlanChanges =
      message.plan !== null
        ? {
            state: 'ready',
            code: null,
            reason: null,
            plan_json: JSON.stringify(message.plan),
            base_system: message.plan.currentSystem,
            updated_at: at,
          }
        : {
            state: UNAVAILABLE.has(message.error?.code ?? '') ? 'unavailable' : 'failed',
            code: message.error?.code ?? 'internal_error',
            reason: message.error?.message ?? 'the agent gave no reason',
            plan_json: null,
            updated_at: at,
          };
    await store.plans.update(deployment.id, changes);
    this.options.live?.publish({ type: 'approvals.changed' });
    logger.info(
      { host, deploymentId: deployment.id, state: changes.state, code: changes.code },
      'activation plan answered',
    );
  }

  /**
   * The agent answered a `plan.request` with an error message instead of a plan (it did not
   * understand it): the plans asked of it on this connection cannot be had from it.
   */
  async onRequestRefused(host: string, reason: string): Promise<void> {
    const { store, presence, clock } = this.options;
    const connection = presence.get(host);
    const at = clock.now().toISOString();
    for (const [deploymentId, asked] of this.asked) {
      if (asked.host !== host || asked.connection !== connection) continue;
      await store.plans.update(
        deploymentId,
        {
          state: 'unavailable',
          code: 'agent_unsupported',
          reason: `the agent refused to prepare a plan: ${reason}`,
          updated_at: at,
        },
        { states: ['pending'] },
      );
    }
  }

  private async refreshOnce(host: string): Promise<void> {
    const { store, presence, clock } = this.options;
    const waiting = await store.deployments.forHost(host, WAITING_DEPLOYMENT_STATUSES);
    const live = presence.get(host);
    for (const deployment of waiting.filter(waitsLong)) {
      const at = clock.now().toISOString();
      // Deployments that waited before plans existed get one now.
      await store.plans.insertIfAbsent({
        deploymentId: deployment.id,
        host,
        storePath: deployment.store_path,
        state: 'pending',
        code: null,
        reason: REASONS.notAsked,
        at,
      });
      const plan = await store.plans.find(deployment.id);
      if (!plan) continue;
      const step = this.decide(plan, live);
      if (step.kind === 'set')
        await store.plans.update(deployment.id, { ...step.changes, updated_at: at });
      if (step.kind === 'ask' && live) await this.ask(deployment, live, at);
    }
  }

  private decide(plan: PlanRow, live: LiveHost | undefined): Step {
    if (!this.prefetchOn(plan.host_name)) {
      return change(plan, 'unavailable', 'prefetch_disabled', REASONS.prefetchOff);
    }
    const current = live?.facts?.system.current ?? null;
    const asked = this.asked.get(plan.deployment_id);
    const askedHere = live !== undefined && asked?.connection === live;
    switch (plan.state) {
      case 'ready': {
        const stale = current !== null && plan.base_system !== current;
        if (!stale || (askedHere && asked.current === current)) return { kind: 'keep' };
        break;
      }
      case 'failed':
        if (!RETRYABLE.has(plan.code ?? '') || plan.attempts >= MAX_ATTEMPTS || askedHere) {
          return { kind: 'keep' };
        }
        break;
      case 'unavailable':
        if (plan.code === 'deployment_ended' || plan.code === 'deployment_started' || askedHere) {
          return { kind: 'keep' };
        }
        break;
      case 'pending':
        if (askedHere) return { kind: 'keep' };
        break;
    }
    if (live === undefined) {
      // Only a plan still to be made waits for the host; an answer already had stays.
      return plan.state === 'pending'
        ? change(plan, 'pending', null, REASONS.offline)
        : { kind: 'keep' };
    }
    if (!live.features.includes(PLAN_FEATURE)) {
      return change(
        plan,
        'unavailable',
        'agent_unsupported',
        `the agent (version ${live.agentVersion}) does not prepare plans; upgrade it`,
      );
    }
    return { kind: 'ask' };
  }

  /** Records the request, then sends it (an answer can never find the request unrecorded). */
  private async ask(deployment: DeploymentRow, live: LiveHost, at: string): Promise<void> {
    const { store, presence, cacheSource } = this.options;
    await store.plans.asked(deployment.id, at);
    this.asked.set(deployment.id, {
      host: live.name,
      connection: live,
      current: live.facts?.system.current ?? null,
    });
    const sent = presence.send(live.name, {
      type: 'plan.request',
      deploymentId: deployment.id,
      storePath: deployment.store_path,
      action: deployment.action,
      cache: cacheSource(live.baseUrl),
    });
    if (!sent) {
      this.asked.delete(deployment.id);
      await store.plans.update(deployment.id, {
        state: 'pending',
        reason: REASONS.offline,
        updated_at: at,
      });
    }
  }

  private prefetchOn(host: string): boolean {
    return this.options.hostSettings[host]?.prefetch ?? true;
  }
}

/**
 * Waits for something that takes a while: a person's approval, or the rollout's gates that
 * hold an approved deployment (its wave, a soak, the deploy window, another deployment).
 */
function waitsLong(row: DeploymentRow): boolean {
  return (
    row.status === 'awaiting_approval' || (row.status === 'approved' && row.hold_reason !== null)
  );
}

/** A change of state, or nothing when the plan says so already. */
function change(plan: PlanRow, state: PlanState, code: ErrorCode | null, reason: string): Step {
  if (plan.state === state && plan.code === code && plan.reason === reason) return { kind: 'keep' };
  return { kind: 'set', changes: { state, code, reason } };
}
