import { join } from 'node:path';
import { FLOTILLA_VERSION, type Health } from '@flotilla/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadOrCreateAdminToken } from './http/admin-token.js';
import { systemClock, type Clock } from '@flotilla/runtime';
import type { ControllerConfig } from './config.js';
import { createBinaryCache } from './cache/cache.composition.js';
import { registerCacheRoutes } from './http/cache.routes.js';
import { AgentGateway } from './gateway/agent.gateway.js';
import { buildHttpServer } from './http/server.js';
import { createDeployments } from './deployments/deployments.composition.js';
import { createPipeline } from './pipeline/pipeline.composition.js';
import { createNotifications } from './notifications/notifications.composition.js';
import { createPolicies } from './rollout/policy.composition.js';
import { HostService } from './hosts/host.service.js';
import { PresenceService } from './hosts/presence.service.js';
import { RepositoryService, type RevisionPipeline } from './repository/repository.service.js';
import { openDatabase, pingDatabase, type Db } from './storage/database.js';
import { EventRepository } from './storage/event.repository.js';
import { HostRepository } from './storage/host.repository.js';
import { RepositoryLinkRepository } from './storage/repository-link.repository.js';
import { RevisionRepository } from './storage/revision.repository.js';

export interface ControllerOptions {
  config: ControllerConfig;
  logger: Logger;
  clock?: Clock;
  /** Receives each new revision; default: logs it (nothing evaluates it). */
  revisionPipeline?: RevisionPipeline;
}

/** A part with background work: started before the API listens, stopped after it closes. */
interface Lifecycle {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

/** Wires storage, services, the HTTP API and the agent gateway; owns their lifecycle. */
export class Controller {
  private constructor(
    private readonly db: Db,
    private readonly app: FastifyInstance,
    private readonly gateway: AgentGateway,
    private readonly logger: Logger,
    /** Started in this order, stopped in reverse. */
    private readonly parts: Lifecycle[],
    readonly adminTokenPath: string,
  ) {}

  static async create(options: ControllerOptions): Promise<Controller> {
    const { config, logger } = options;
    const clock = options.clock ?? systemClock;
    const admin = loadOrCreateAdminToken(config.stateDir);
    if (admin.created) logger.info({ path: admin.path }, 'created admin token (mode 0600)');
    const { db, dialect } = await openDatabase({
      url: config.databaseUrl ?? join(config.stateDir, 'flotilla.db'),
    });
    logger.info({ dialect }, 'database ready');

    const hostRepository = new HostRepository(db);
    const events = new EventRepository(db);
    const presence = new PresenceService({
      hosts: hostRepository,
      events,
      clock,
      logger,
      ...config.agents,
    });
    const notifications = createNotifications({
      db,
      receivers: config.secrets.notificationReceivers ?? [],
      offlineAfterMinutes: config.notifications.offlineAfterMinutes,
      hosts: hostRepository,
      presence,
      clock,
      logger,
    });
    // Policies react to the pipeline, registrations and deployments, which are built before
    // them; the callbacks below only run once the controller has started.
    const hosts = new HostService({
      hosts: hostRepository,
      events,
      presence,
      clock,
      onRegistered: async (name) => policy.rollout.onHostRegistered(name),
    });
    // The signing key is created on first start; releases are published through the cache.
    const cache = await createBinaryCache({ config, db, hosts, logger });
    const publisher = cache.publisher;
    const pipeline = createPipeline({
      db,
      config,
      events,
      hosts: hostRepository,
      publisher,
      clock,
      logger,
      onReleaseReady: async (release) => policy.rollout.onReleaseReady(release),
    });
    const deployments = createDeployments({
      db,
      config,
      events,
      hosts,
      presence,
      clock,
      logger,
      releases: pipeline.releases,
      cacheSource: (agentBaseUrl) => cache.service.cacheSourceFor(agentBaseUrl),
      hooks: {
        onFinished: async (row) => policy.rollout.onDeploymentFinished(row),
        onManualRollback: async (host, actor, reason) => {
          await policy.policies.pin(host, actor, reason);
        },
      },
    });
    const policy: ReturnType<typeof createPolicies> = createPolicies({
      db,
      config,
      events,
      hosts,
      hostRows: hostRepository,
      deployments: deployments.repository,
      runner: deployments.runner,
      log: deployments.log,
      clock,
      logger,
      notify: async (event) => void (await notifications.service.notify(event)),
    });
    const repository = new RepositoryService({
      stateDir: config.stateDir,
      childEnv: config.childEnv,
      config: config.repository,
      configToken: config.secrets.repositoryToken,
      links: new RepositoryLinkRepository(db),
      revisions: new RevisionRepository(db),
      events,
      pipeline: options.revisionPipeline ?? {
        // Evaluation runs in the background: a sync (or webhook) never waits for Nix.
        onRevision: async (revisionId) => void pipeline.pipeline.onRevision(revisionId),
      },
      clock,
      logger,
    });
    await repository.init();
    const gateway = new AgentGateway({
      hosts,
      presence,
      runner: deployments.runner,
      reboots: deployments.reboots,
      logger,
      heartbeatIntervalSeconds: config.agents.heartbeatIntervalSeconds,
    });
    const health = async (): Promise<{ body: Health; healthy: boolean }> => {
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
      adminToken: admin.token,
      hosts,
      deployments: deployments.service,
      reboots: deployments.reboots,
      policy,
      events,
      notifications: notifications.service,
      health,
      pipeline,
      cache: cache.service,
      repository,
      webhookSecret: config.secrets.webhookSecret,
    });
    registerCacheRoutes(app, cache.service);
    gateway.attach(app.server);
    const parts = [
      presence,
      pipeline,
      deployments.runner,
      policy.rollout,
      repository,
      notifications.worker,
      notifications.offline,
    ];
    return new Controller(db, app, gateway, logger, parts, admin.path);
  }

  /** Starts background work, then listens; returns the base URL (useful with port 0). */
  async listen(host: string, port: number): Promise<string> {
    for (const part of this.parts) await part.start();
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    this.logger.info({ url, version: FLOTILLA_VERSION }, 'listening');
    return url;
  }

  /** Closes agent connections, stops background work, flushes live state, closes the database. */
  async close(): Promise<void> {
    await this.gateway.close();
    await this.app.close();
    for (const part of [...this.parts].reverse()) await part.stop();
    await this.db.destroy();
  }
}
