import { join } from 'node:path';
import { FLOTILLA_VERSION, type Health } from '@flotilla/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadOrCreateAdminToken } from './admin-token.js';
import { systemClock, type Clock } from './clock.js';
import type { ControllerConfig } from './config.js';
import { AgentGateway } from './gateway/agent.gateway.js';
import { buildHttpServer } from './http/server.js';
import { DeploymentService } from './services/deployment.service.js';
import { HostService } from './services/host.service.js';
import { PresenceService } from './services/presence.service.js';
import { openDatabase, pingDatabase, type Db } from './storage/database.js';
import { DeploymentRepository } from './storage/deployment.repository.js';
import { EventRepository } from './storage/event.repository.js';
import { HostRepository } from './storage/host.repository.js';

export interface ControllerOptions {
  config: ControllerConfig;
  logger: Logger;
  clock?: Clock;
}

/** Wires storage, services, the HTTP API and the agent gateway; owns their lifecycle. */
export class Controller {
  private constructor(
    private readonly db: Db,
    private readonly app: FastifyInstance,
    private readonly presence: PresenceService,
    private readonly gateway: AgentGateway,
    private readonly logger: Logger,
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
    const hosts = new HostService({ hosts: hostRepository, events, presence, clock });
    const deployments = new DeploymentService({
      deployments: new DeploymentRepository(db),
      events,
      hosts,
      presence,
      clock,
      logger,
    });
    const gateway = new AgentGateway({
      hosts,
      presence,
      deployments,
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
    const app = buildHttpServer({ logger, adminToken: admin.token, hosts, deployments, health });
    gateway.attach(app.server);
    return new Controller(db, app, presence, gateway, logger, admin.path);
  }

  /** Starts listening; returns the base URL (useful with port 0). */
  async listen(host: string, port: number): Promise<string> {
    this.presence.start();
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    this.logger.info({ url, version: FLOTILLA_VERSION }, 'listening');
    return url;
  }

  /** Closes agent connections, flushes live state, closes the database. */
  async close(): Promise<void> {
    await this.gateway.close();
    await this.app.close();
    await this.presence.stop();
    await this.db.destroy();
  }
}
