import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FLOTILLA_VERSION, type HealthDetails } from '@flotilla/protocol';
import { systemClock, type Clock } from '@flotilla/runtime';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { NixAdapter } from './adapters/nix.js';
import { AuditService } from './audit/audit.service.js';
import { AuthService } from './auth/auth.service.js';
import { TokensService } from './auth/tokens.service.js';
import { UsersService } from './auth/users.service.js';
import { CacheCredentials } from './cache/cache-credentials.js';
import type { ReleasePublisher } from './cache/cache.publisher.js';
import { createBinaryCache } from './cache/cache.composition.js';
import type { SigningKey } from './cache/signing-key.js';
import { DEFAULT_WEB_DIR, type ControllerConfig } from './config.js';
import { createDeployments } from './deployments/deployments.composition.js';
import { createEditor, type Editor } from './editor/editor.composition.js';
import { EventBus } from './events/event-bus.js';
import { AgentGateway } from './gateway/agent.gateway.js';
import { HostIdentityService } from './hosts/host-identity.service.js';
import { HostService } from './hosts/host.service.js';
import { PresenceService } from './hosts/presence.service.js';
import { RebootService } from './hosts/reboot.service.js';
import { buildHttpServer } from './http/server.js';
import { createNotifications } from './notifications/notifications.composition.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.composition.js';
import {
  DEFAULT_REPOSITORY_ID,
  RepositoryService,
  type RevisionPipeline,
} from './repository/repository.service.js';
import { PlanService } from './plans/plan.service.js';
import { createPolicies } from './rollout/policy.composition.js';
import { FleetOverviewService } from './status/fleet-overview.service.js';
import { HostStatusService } from './status/host-status.service.js';
import { RevisionStatusService } from './status/revision-status.service.js';
import { openDatabase, pingDatabase, type Db } from './storage/database.js';
import { RepositoryLinkRepository } from './storage/repository-link.repository.js';
import { WebhookDeliveryRepository } from './storage/hardening.repositories.js';
import { Store } from './storage/store.js';
import { createRequestGuards } from './support/request-guards.js';

export interface ControllerOptions {
  config: ControllerConfig;
  logger: Logger;
  clock?: Clock;
  /** Receives each new revision; default: the pipeline evaluates it. */
  revisionPipeline?: RevisionPipeline;
  /**
   * Parts made elsewhere, so the controller runs where Nix does not (service tests, tools):
   * the Nix adapter of the pipeline, and the cache's signing key and publisher.
   */
  parts?: {
    nix?: NixAdapter;
    cache?: { key: SigningKey; publisher: ReleasePublisher };
  };
}

/** A part with background work: started before the API listens, stopped after it closes. */
interface Lifecycle {
  start(): void | Promise<void>;
  /** Work that serving does not wait for (a child process, say): run once the API listens. */
  listening?(): void;
  stop(): Promise<void>;
}

/** Wires storage, services, the HTTP API and the agent gateway; owns their lifecycle. */
export class Controller {
  private constructor(
    private readonly db: Db,
    readonly app: FastifyInstance,
    private readonly gateway: AgentGateway,
    private readonly logger: Logger,
    /** Started in this order, stopped in reverse. */
    private readonly parts: Lifecycle[],
    /** The one-time setup token while no user exists (printed at start), else null. */
    readonly setupToken: string | null,
    /** The services, for tests and tools that drive the controller in-process. */
    readonly services: ControllerServices,
  ) {}

  static async create(options: ControllerOptions): Promise<Controller> {
    const { config, logger } = options;
    const clock = options.clock ?? systemClock;
    // Private even when it was made by someone else first: it holds the keys and the database.
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(config.stateDir, 0o700);
    const { db, dialect } = await openDatabase({
      url: config.databaseUrl ?? join(config.stateDir, 'flotilla.db'),
    });
    logger.info({ dialect }, 'database ready');
    const store = new Store(db);
    // Live events for the web UI: services publish into it, `GET /api/v1/events` streams it.
    const live = new EventBus({ clock, logger });

    const presence = new PresenceService({
      hosts: store.hosts,
      events: store.events,
      live,
      clock,
      logger,
      ...config.agents,
    });
    const notifications = createNotifications({
      db,
      receivers: config.secrets.notificationReceivers ?? [],
      offlineAfterMinutes: config.notifications.offlineAfterMinutes,
      hosts: store.hosts,
      presence,
      clock,
      logger,
    });
    const notifier = notifications.service;
    const cacheCredentials = new CacheCredentials(clock);
    const identity = new HostIdentityService({
      store,
      presence,
      live,
      clock,
      onKeyRevoked: (name) => cacheCredentials.revokeHost(name),
    });
    // The rules react to registrations, releases and deployments, whose parts are built
    // before them; the callbacks below only run once the controller has started.
    const hosts = new HostService({
      store,
      presence,
      live,
      identities: identity,
      clock,
      hostSettings: config.hosts,
      onRegistered: async (tx, name) => {
        const latest = await tx.releases.latestForHost(name);
        if (latest?.status === 'ready') await policy.gate.offerRelease(tx, latest);
      },
      afterRegistered: async () => policy.rollout.tick(),
      afterRemoved: (name) => cacheCredentials.revokeHost(name),
    });
    const cache = await createBinaryCache({
      config,
      db,
      credentials: cacheCredentials,
      logger,
      ...(options.parts?.cache ? { injected: options.parts.cache } : {}),
    });
    const pipeline: Pipeline = createPipeline({
      store,
      config,
      publisher: cache.publisher,
      ...(options.parts?.nix ? { nix: options.parts.nix } : {}),
      live,
      clock,
      logger,
      onReleaseReady: async (tx, release) => void (await policy.gate.offerRelease(tx, release)),
      afterReleaseReady: async () => policy.rollout.tick(),
    });
    const plans = new PlanService({
      store,
      presence,
      cacheSource: (agentBaseUrl) => cache.service.cacheSourceFor(agentBaseUrl),
      hostSettings: config.hosts,
      clock,
      logger,
      live,
    });
    const deployments = createDeployments({
      store,
      config,
      presence,
      notifier,
      live,
      clock,
      logger,
      cacheSource: (agentBaseUrl) => cache.service.cacheSourceFor(agentBaseUrl),
      hooks: {
        onFinished: (tx, row) => policy.rollout.onDeploymentFinished(tx, row),
        afterFinished: async () => policy.rollout.tick(),
      },
      plans,
    });
    const policy: ReturnType<typeof createPolicies> = createPolicies({
      store,
      config,
      transitions: deployments.transitions,
      runner: deployments.runner,
      notifier,
      live,
      liveFacts: (name) => presence.get(name)?.facts ?? null,
      clock,
      logger,
    });
    await policy.policies.applyConfig();
    const repository = new RepositoryService({
      stateDir: config.stateDir,
      childEnv: config.childEnv,
      config: config.repository,
      configToken: config.secrets.repositoryToken,
      links: new RepositoryLinkRepository(db),
      revisions: store.revisions,
      events: store.events,
      pipeline: options.revisionPipeline ?? {
        // Evaluation runs in the background: a sync (or webhook) never waits for Nix.
        onRevision: async (revisionId) => void pipeline.pipeline.onRevision(revisionId),
      },
      live,
      clock,
      logger,
    });
    await repository.init();
    const editor = createEditor({
      store,
      repository,
      pipeline: pipeline.pipeline,
      clock,
      logger,
      live,
    });
    const reboots = new RebootService({ hosts, presence, store, clock });
    const status = new HostStatusService({
      store,
      hosts,
      commits: repository,
      repositoryId: DEFAULT_REPOSITORY_ID,
      hostSettings: config.hosts,
    });
    const guard = createRequestGuards(config, clock);
    const gateway = new AgentGateway({
      identity,
      cacheCredentials,
      publicUrl: config.publicUrl,
      presence,
      runner: deployments.runner,
      plans,
      reboots,
      logger,
      heartbeatIntervalSeconds: config.agents.heartbeatIntervalSeconds,
      trustedProxies: guard.trustedProxies,
      failures: guard.limits.hosts,
      connections: guard.agentConnections,
    });
    const auth = new AuthService({
      store,
      clock,
      settings: { ...config.auth, issuer: 'Flotilla' },
    });
    const users = new UsersService({ store, clock, stateDir: config.stateDir });
    const tokens = new TokensService({ store, clock });
    const setupToken = await users.firstStart(
      config.secrets.initialAdminPassword === undefined
        ? undefined
        : {
            username: config.auth.initialAdminUsername,
            password: config.secrets.initialAdminPassword,
          },
    );
    if (setupToken !== null) {
      // Printed on purpose: the one way in on a first start (also in the 0600 file).
      logger.warn(
        { setupToken, file: join(config.stateDir, 'setup-token') },
        'no user exists yet: create the first admin with `flotilla setup` and this one-time token',
      );
    }
    const health = async (): Promise<{ body: HealthDetails; healthy: boolean }> => {
      const dbOk = await pingDatabase(db);
      return {
        healthy: dbOk,
        body: {
          status: dbOk ? 'ok' : 'degraded',
          database: dbOk ? 'ok' : 'unavailable',
          version: FLOTILLA_VERSION,
          agentsConnected: presence.onlineCount,
        },
      };
    };
    const app = buildHttpServer({
      logger,
      auth: { auth, users, tokens, publicUrl: config.publicUrl, proxy: config.auth.proxy },
      hosts: {
        hosts,
        identity,
        status,
        overview: new FleetOverviewService({
          store,
          hosts,
          status,
          policies: policy.policies,
          approvals: policy.approvals,
          clock,
        }),
        reboots,
        commands: policy.commands,
        policies: policy.policies,
      },
      deployments: {
        deployments: deployments.service,
        commands: policy.commands,
        approvals: policy.approvals,
        policies: policy.policies,
        rollout: policy.rollout,
        audit: new AuditService(store.events),
        notifications: notifications.service,
        cache: cache.service,
      },
      pipeline,
      repository,
      revisionStatus: new RevisionStatusService({
        store,
        pipeline: pipeline.pipeline,
        repositoryId: DEFAULT_REPOSITORY_ID,
        branch: async () =>
          (await store.evaluations.repository(DEFAULT_REPOSITORY_ID))?.branch ?? null,
      }),
      editor,
      cache: cache.service,
      live,
      health,
      webDir: config.webDir ?? DEFAULT_WEB_DIR,
      webhookSecret: config.secrets.webhookSecret,
      webhookDeliveries: new WebhookDeliveryRepository(db),
      trustedProxies: guard.trustedProxies,
      limits: guard.limits,
      https: config.publicUrl?.startsWith('https:') === true,
      clock,
    });
    gateway.attach(app.server);
    const parts: Lifecycle[] = [
      presence,
      pipeline,
      deployments.runner,
      policy.rollout,
      policy.graduation,
      repository,
      editor,
      notifications.worker,
      notifications.offline,
    ];
    const services: ControllerServices = {
      store,
      hosts,
      identity,
      presence,
      status,
      pipeline,
      repository,
      editor,
      deployments: deployments.service,
      runner: deployments.runner,
      plans,
      reboots,
      ...policy,
      auth,
      users,
      tokens,
      live,
    };
    return new Controller(db, app, gateway, logger, parts, setupToken, services);
  }

  /** Starts background work, then listens; returns the base URL (useful with port 0). */
  async listen(host: string, port: number): Promise<string> {
    await this.start();
    await this.app.listen({ host, port });
    for (const part of this.parts) part.listening?.();
    const address = this.app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    this.logger.info({ url, version: FLOTILLA_VERSION }, 'listening');
    return url;
  }

  /** Starts background work without listening (in-process use: `app.inject`). */
  async start(): Promise<void> {
    for (const part of this.parts) await part.start();
  }

  /** Closes agent connections, stops background work, flushes live state, closes the database. */
  async close(): Promise<void> {
    await this.gateway.close();
    await this.app.close();
    for (const part of [...this.parts].reverse()) await part.stop();
    await this.db.destroy();
  }
}

/** What a running controller is made of (for in-process tests and tools). */
export interface ControllerServices {
  store: Store;
  hosts: HostService;
  identity: HostIdentityService;
  presence: PresenceService;
  status: HostStatusService;
  pipeline: Pipeline;
  repository: RepositoryService;
  editor: Editor;
  deployments: ReturnType<typeof createDeployments>['service'];
  runner: ReturnType<typeof createDeployments>['runner'];
  plans: PlanService;
  reboots: RebootService;
  gate: ReturnType<typeof createPolicies>['gate'];
  policies: ReturnType<typeof createPolicies>['policies'];
  rollout: ReturnType<typeof createPolicies>['rollout'];
  approvals: ReturnType<typeof createPolicies>['approvals'];
  commands: ReturnType<typeof createPolicies>['commands'];
  graduation: ReturnType<typeof createPolicies>['graduation'];
  auth: AuthService;
  users: UsersService;
  tokens: TokensService;
  /** The live events (`GET /api/v1/events`). */
  live: EventBus;
}
