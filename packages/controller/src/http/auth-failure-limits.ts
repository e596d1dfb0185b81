import type { Access } from '@flotilla/protocol';
import type { FastifyInstance } from 'fastify';
import type { FailureLimiter } from '../support/rate-limit.js';

/** One limiter per kind of caller, so a host with a stale token cannot lock people out. */
export interface AuthFailureLimiters {
  /** People and tools: logins, sessions and API tokens. */
  api: FailureLimiter;
  /** Signed webhooks (GitHub). */
  webhook: FailureLimiter;
  /** Hosts: the binary cache here, the agent gateway on its own (gateway/agent.gateway.ts). */
  hosts: FailureLimiter;
}

function limiterFor(limiters: AuthFailureLimiters, access: Access): FailureLimiter {
  switch (access) {
    case 'webhook':
      return limiters.webhook;
    case 'host':
    case 'enrollment':
      return limiters.hosts;
    case 'public':
    case 'viewer':
    case 'operator':
    case 'admin':
      return limiters.api;
  }
}

/**
 * Failed authentication, per client address (`request.ip`, which believes only the
 * configured proxies): every 401 answer counts a failure against the route's kind of
 * caller and is logged with the address and the path (never the query string, where a
 * token may have been put); an address over its limit is answered `rate_limited` (429 with
 * `Retry-After`) before its credentials are even looked at. Installed before the auth
 * check, so it covers whatever that check becomes (a login that answers 401 included).
 */
export function installAuthFailureLimits(
  app: FastifyInstance,
  limiters: AuthFailureLimiters,
): void {
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) return; // no route: answered 404, nothing to guess
    limiterFor(limiters, access).check(request.ip);
  });
  app.addHook('onResponse', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (reply.statusCode !== 401 || access === undefined) return;
    const lockoutSeconds = limiterFor(limiters, access).fail(request.ip);
    request.log.warn(
      {
        client: request.ip,
        method: request.method,
        path: request.url.split('?')[0],
        contract: request.routeOptions.config.contract,
        ...(lockoutSeconds > 0 ? { lockoutSeconds } : {}),
      },
      lockoutSeconds > 0
        ? 'authentication failed; the address is locked out'
        : 'authentication failed',
    );
  });
}
