import { api, type Health, type HealthDetails } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BinaryCacheService } from '../cache/cache.service.js';
import type { Editor } from '../editor/editor.composition.js';
import type { EventBus } from '../events/event-bus.js';
import type { RepositoryService } from '../repository/repository.service.js';
import type { RevisionStatusService } from '../status/revision-status.service.js';
import type { WebhookDeliveryRepository } from '../storage/hardening.repositories.js';
import type { TrustedProxies } from '../support/trusted-proxies.js';
import { installAuthFailureLimits, type AuthFailureLimiters } from './auth-failure-limits.js';
import { authRoutes, registerSessionRoutes, type AuthRouteServices } from './auth.routes.js';
import { installAuthentication, type TrustedProxyAuth } from './authentication.js';
import { registerAgentEnrollment } from './agent-enroll.route.js';
import { registerBuildLogStream } from './build-log.stream.js';
import { registerCacheRoutes } from './cache.routes.js';
import { deploymentRoutes, type DeploymentRouteServices } from './deployments.routes.js';
import { editorRoutes } from './editor.routes.js';
import { installErrorHandlers } from './errors.js';
import { registerEventStream } from './events.stream.js';
import { registerGithubWebhook } from './github-webhook.js';
import { hostRoutes, type HostRouteServices } from './hosts.routes.js';
import { closeIdleConnectionsOnClose } from './idle-connections.js';
import { buildOpenApi } from './openapi.js';
import { pipelineRoutes, type PipelineRouteServices } from './pipeline.routes.js';
import { repositoryRoutes } from './repository.routes.js';
import { revisionStatusRoutes } from './revision-status.routes.js';
import { ApiRoutes, routeConfig } from './route.js';
import { installSecurityHeaders } from './security-headers.js';
import { registerWebApp } from './web-app.routes.js';

export interface HttpServerOptions {
  logger: Logger;
  auth: AuthRouteServices & { proxy?: TrustedProxyAuth | undefined };
  hosts: HostRouteServices;
  deployments: DeploymentRouteServices;
  pipeline: PipelineRouteServices;
  repository: RepositoryService;
  /** Where one commit stands in the pipeline. */
  revisionStatus: RevisionStatusService;
  editor: Editor;
  cache: BinaryCacheService;
  /** The live events streamed at `GET /api/v1/events`. */
  live: EventBus;
  health: () => Promise<{ body: HealthDetails; healthy: boolean }>;
  /** The built web UI served at `/` (index.html and assets/). */
  webDir: string;
  /** GitHub webhook secret; the webhook endpoint is off without it. */
  webhookSecret: string | undefined;
  /** Webhook deliveries already acted on (replays are refused). */
  webhookDeliveries: WebhookDeliveryRepository;
  /** Proxies whose X-Forwarded-For gives `request.ip`. */
  trustedProxies: TrustedProxies;
  limits: AuthFailureLimiters;
  /** The public URL is https: answers carry HSTS. */
  https: boolean;
  clock: Clock;
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
    // `request.ip` believes X-Forwarded-For only from the configured proxies.
    trustProxy: (address: string) => options.trustedProxies.trusts(address),
  });
  closeIdleConnectionsOnClose(app);
  installErrorHandlers(app);
  installSecurityHeaders(app, { https: options.https });
  installAuthFailureLimits(app, options.limits);

  // Only the not-found handler has no contract: it answers 404 and runs nothing else.
  const reauthentication = installAuthentication(app, {
    auth: options.auth.auth,
    tokens: options.auth.tokens,
    proxy: options.auth.proxy,
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        path: request.url.split('?')[0],
        client: request.ip,
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request',
    );
  });

  const routes = new ApiRoutes(app);
  routes.addAll({
    ...authRoutes(options.auth),
    ...hostRoutes(options.hosts),
    ...deploymentRoutes(options.deployments),
    ...pipelineRoutes(options.pipeline),
    ...repositoryRoutes(options.repository),
    ...revisionStatusRoutes(options.revisionStatus),
    ...editorRoutes(options.editor),
    getWebhookInfo: async () => ({
      path: api.githubWebhook.path,
      secretConfigured: options.webhookSecret !== undefined,
    }),
  });
  registerSessionRoutes(app, routes, options.auth);
  registerBuildLogStream(app, routes, options.pipeline.builds);
  registerEventStream(app, routes, {
    bus: options.live,
    clock: options.clock,
    stillAllowed: (request) => reauthentication.stillAllowed(request),
  });
  registerGithubWebhook(app, routes, {
    secret: options.webhookSecret,
    repository: options.repository,
    deliveries: options.webhookDeliveries,
    clock: options.clock,
  });
  registerCacheRoutes(app, routes, options.cache);
  registerAgentEnrollment(app, routes, options.hosts.identity);
  registerWebApp(app, routes, options.webDir);
  // The agent gateway answers upgrades on the HTTP server itself (gateway/agent.gateway.ts).
  routes.claim('agentGateway');
  // Built on first request: turning every contract into JSON Schema takes longer than the
  // rest of the start, and only API tooling ever asks for it.
  let openApi: Record<string, unknown> | undefined;
  routes.claim('openApi');
  app.get('/api/v1/openapi.json', { config: routeConfig('openApi') }, async () => {
    openApi ??= buildOpenApi();
    return openApi;
  });
  routes.claim('health');
  app.get('/healthz', { config: routeConfig('health') }, async (_request, reply) => {
    const { body, healthy } = await options.health();
    // Anonymous callers (load balancers) learn whether it works, not what runs.
    const answer: Health = { status: body.status, database: body.database };
    return reply.status(healthy ? 200 : 503).send(answer);
  });
  routes.claim('healthDetails');
  app.get('/api/v1/health', { config: routeConfig('healthDetails') }, async (_request, reply) => {
    const { body, healthy } = await options.health();
    return reply.status(healthy ? 200 : 503).send(body);
  });
  routes.assertComplete();
  return app;
}
