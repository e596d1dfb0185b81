import { FlotillaError, type Health } from '@flotilla/protocol';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BinaryCacheService } from '../cache/cache.service.js';
import type { RepositoryService } from '../repository/repository.service.js';
import { tokensEqual } from '../support/tokens.js';
import { registerAgentEnrollment } from './agent-enroll.route.js';
import { registerBuildLogStream } from './build-log.stream.js';
import { registerCacheRoutes } from './cache.routes.js';
import { deploymentRoutes, type DeploymentRouteServices } from './deployments.routes.js';
import { installErrorHandlers } from './errors.js';
import { registerGithubWebhook } from './github-webhook.js';
import { hostRoutes, type HostRouteServices } from './hosts.routes.js';
import { buildOpenApi } from './openapi.js';
import { pipelineRoutes, type PipelineRouteServices } from './pipeline.routes.js';
import { repositoryRoutes } from './repository.routes.js';
import { ApiRoutes, routeConfig } from './route.js';

export interface HttpServerOptions {
  logger: Logger;
  adminToken: string;
  hosts: HostRouteServices;
  deployments: DeploymentRouteServices;
  pipeline: PipelineRouteServices;
  repository: RepositoryService;
  cache: BinaryCacheService;
  health: () => Promise<{ body: Health; healthy: boolean }>;
  /** GitHub webhook secret; the webhook endpoint is off without it. */
  webhookSecret: string | undefined;
}

/**
 * The HTTP API, every route from its contract in `@flotilla/protocol`. Who may call a
 * route is part of its contract and checked on the route that matched, after the router
 * has decoded the path; a request that matches no route is answered 404 without reaching
 * any handler.
 */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  // Typed as Fastify's base logger so the instance gets Fastify's default generic types.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    // Per-request info logs would drown everything else; see the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Agents keep a connection open for days; the default timeouts are for HTTP only.
    requestTimeout: 60_000,
  });
  installErrorHandlers(app);

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // Only the not-found handler has no contract: it answers 404 and runs nothing else.
    // Routes of hosts, enrollment and webhooks prove who calls in their own handlers.
    if (
      access === undefined ||
      access === 'public' ||
      access === 'host' ||
      access === 'enrollment' ||
      access === 'webhook'
    )
      return;
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !tokensEqual(token, options.adminToken)) {
      throw new FlotillaError('unauthorized', 'missing or invalid admin token');
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });

  const routes = new ApiRoutes(app, () => 'admin');
  routes.addAll({
    ...hostRoutes(options.hosts),
    ...deploymentRoutes(options.deployments),
    ...pipelineRoutes(options.pipeline),
    ...repositoryRoutes(options.repository),
  });
  registerBuildLogStream(app, routes, options.pipeline.builds);
  registerGithubWebhook(app, routes, {
    secret: options.webhookSecret,
    repository: options.repository,
  });
  registerCacheRoutes(app, routes, options.cache);
  registerAgentEnrollment(app, routes, options.hosts.identity);
  // The agent gateway answers upgrades on the HTTP server itself (gateway/agent.gateway.ts).
  routes.claim('agentGateway');
  const openApi = buildOpenApi();
  routes.claim('openApi');
  app.get('/api/v1/openapi.json', { config: routeConfig('openApi') }, async () => openApi);
  routes.claim('health');
  app.get('/healthz', { config: routeConfig('health') }, async (_request, reply) => {
    const { body, healthy }: { body: Health; healthy: boolean } = await options.health();
    return reply.status(healthy ? 200 : 503).send(body);
  });
  routes.assertComplete();
  return app;
}
