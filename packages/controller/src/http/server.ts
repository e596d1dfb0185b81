import { FlotillaError, type Health } from '@flotilla/protocol';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { tokensEqual } from '../support/tokens.js';
import { installErrorHandlers } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { RouteTable } from './route.js';
import { registerBuildLogStream } from './build-log.stream.js';
import { registerGithubWebhook } from './github-webhook.js';
import { registerPipelineRoutes, type PipelineRouteServices } from './pipeline.routes.js';
import { registerPolicyRoutes, type PolicyRouteServices } from './policy.routes.js';
import type { EventRepository } from '../storage/event.repository.js';
import { registerRepositoryRoutes } from './repository.routes.js';
import { registerRoutes, type RouteServices } from './routes.js';
import type { RepositoryService } from '../repository/repository.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export interface HttpServerOptions extends RouteServices {
  logger: Logger;
  adminToken: string;
  pipeline: PipelineRouteServices;
  policy: PolicyRouteServices;
  events: EventRepository;
  repository: RepositoryService;
  /** GitHub webhook secret; the webhook endpoint is off without it. */
  webhookSecret: string | undefined;
}

/** The HTTP API: admin-token auth, validated routes, OpenAPI, health. */
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
    if (request.routeOptions.config.public === true) return;
    if (!request.url.startsWith('/api/')) return;
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

  const routes = new RouteTable(app, () => 'admin');
  registerRoutes(routes, options);
  registerPipelineRoutes(routes, options.pipeline);
  registerPolicyRoutes(routes, options.policy, options.events);
  registerBuildLogStream(app, options.pipeline.builds);
  registerRepositoryRoutes(routes, options.repository);
  registerGithubWebhook(app, { secret: options.webhookSecret, repository: options.repository });
  const openApi = buildOpenApi(routes);
  app.get('/api/v1/openapi.json', { config: { public: true } }, async () => openApi);
  app.get('/healthz', { config: { public: true } }, async (_request, reply) => {
    const { body, healthy }: { body: Health; healthy: boolean } = await options.health();
    return reply.status(healthy ? 200 : 503).send(body);
  });
  return app;
}
