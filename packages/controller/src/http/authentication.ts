import {
  api,
  CSRF_HEADER,
  FlotillaError,
  SESSION_COOKIE,
  STEP_UP_HEADER,
  type Contract,
  type ContractName,
} from '@flotilla/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/auth.service.js';
import { allows, type Principal } from '../auth/principal.js';
import type { TokensService } from '../auth/tokens.service.js';
import { hashToken, tokensEqual } from '../support/tokens.js';
import { TrustedProxies } from '../support/trusted-proxies.js';

/** An authenticating proxy (Traefik forward-auth, oauth2-proxy) whose user header is trusted. */
export interface TrustedProxyAuth {
  /** The header naming the user, e.g. `X-Forwarded-User`. */
  userHeader: string;
  /** Only requests whose socket comes from one of these addresses or ranges may set it. */
  addresses: readonly string[];
}

export interface AuthenticationOptions {
  auth: AuthService;
  tokens: TokensService;
  proxy?: TrustedProxyAuth | undefined;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CONTRACTS: Readonly<Record<string, Contract>> = api;

/**
 * Who may call: decided on the route that matched (its contract's `access`), after the
 * router has decoded the path; a request that matched no route gets the 404 handler and
 * nothing else. People and tools authenticate with an API token (`Authorization: Bearer`)
 * or a browser session (cookie, plus the CSRF token on anything that changes state), or
 * through a trusted authenticating proxy. Destructive routes ask a TOTP user for a fresh
 * code. Host, enrollment and webhook routes prove the caller in their own handlers.
 */
export function installAuthentication(
  app: FastifyInstance,
  options: AuthenticationOptions,
): Reauthentication {
  const proxies = new TrustedProxies(options.proxy?.addresses ?? []);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (
      access === undefined ||
      access === 'host' ||
      access === 'enrollment' ||
      access === 'webhook'
    )
      return;
    if (access === 'public') {
      // A stale token in a client's config must not break what anyone may call.
      request.principal =
        (await authenticate(request, options, proxies).catch(() => null)) ?? undefined;
      return;
    }
    const principal = await authenticate(request, options, proxies);
    if (principal) request.principal = principal;
    if (!principal) {
      request.log.info(
        { address: request.ip, route: request.routeOptions.url },
        'not authenticated',
      );
      throw new FlotillaError('unauthorized', 'log in, or send an API token as a Bearer token');
    }
    if (!allows(principal.role, access)) {
      const byScope = principal.scope !== null && allows(principal.user.role, access);
      throw new FlotillaError(
        byScope ? 'scope_forbidden' : 'forbidden',
        byScope
          ? `the token's ${principal.scope} scope does not allow this (it needs ${access})`
          : `this needs the ${access} role; ${principal.user.username} is ${principal.user.role}`,
        { needed: access, role: principal.role, scope: principal.scope },
      );
    }
  });
  // Step-up needs the body (a policy set to `auto`), so it runs once the body is parsed.
  app.addHook('preHandler', async (request) => {
    const name = request.routeOptions.config.contract;
    const principal = request.principal;
    if (name === undefined || !principal) return;
    const stepUp = CONTRACTS[name]?.stepUp;
    if (!stepUp || !needsStepUp(stepUp, request.body)) return;
    if (principal.user.totp_enabled !== 1) return;
    const code = request.headers[STEP_UP_HEADER];
    if (typeof code === 'string' && code !== '') {
      await options.auth.stepUp(principal, code);
      return;
    }
    if (!options.auth.steppedUp(principal)) {
      throw new FlotillaError(
        'step_up_required',
        `${describe(name)} needs a fresh TOTP code (header ${STEP_UP_HEADER}, or POST /api/v1/auth/step-up)`,
      );
    }
  });
  return {
    async stillAllowed(request) {
      const access = request.routeOptions.config.access;
      if (access === undefined) return false;
      const principal = await authenticate(request, options, proxies).catch(() => null);
      return principal !== null && allows(principal.role, access);
    },
  };
}

/** For answers that last (streams): whether the caller of a request may still call its route. */
export interface Reauthentication {
  /**
   * Authenticates the request's credentials again (session, token or proxy) and checks the
   * route's access: false once the session ended, the token was revoked, the user was
   * disabled or lost the role.
   */
  stillAllowed(request: FastifyRequest): Promise<boolean>;
}

async function authenticate(
  request: FastifyRequest,
  options: AuthenticationOptions,
  proxies: TrustedProxies,
): Promise<Principal | null> {
  const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) {
    const principal = await options.tokens.authenticate(bearer);
    if (!principal) {
      request.log.info({ address: request.ip }, 'invalid, expired or revoked API token');
      throw new FlotillaError(
        'unauthorized',
        'that API token is not valid (unknown, expired or revoked)',
      );
    }
    return principal;
  }
  const sessionId = cookie(request.headers.cookie, SESSION_COOKIE);
  if (sessionId !== undefined) {
    const found = await options.auth.session(sessionId);
    if (!found) return null;
    if (!READ_METHODS.has(request.method)) {
      const csrf = request.headers[CSRF_HEADER];
      if (typeof csrf !== 'string' || !tokensEqual(hashToken(csrf), found.session.csrfHash)) {
        throw new FlotillaError('csrf_failed', `missing or wrong ${CSRF_HEADER} header`);
      }
    }
    return {
      user: found.user,
      via: 'session',
      role: found.user.role,
      scope: null,
      sessionIdHash: found.session.idHash,
      token: null,
      steppedUpAt: found.session.steppedUpAt,
    };
  }
  const proxy = options.proxy;
  // The socket's own peer, never X-Forwarded-For: only the proxy itself may name a user.
  if (proxy && proxies.trusts(request.socket.remoteAddress)) {
    const name = request.headers[proxy.userHeader.toLowerCase()];
    if (typeof name !== 'string' || name === '') return null;
    const user = await options.auth.enabledUser(name);
    if (!user) return null;
    // The proxy's own cookie would ride along on a cross-site form post; a custom header
    // cannot be sent cross-origin without a CORS preflight, which this server never grants.
    if (!READ_METHODS.has(request.method) && typeof request.headers[CSRF_HEADER] !== 'string') {
      throw new FlotillaError('csrf_failed', `send the ${CSRF_HEADER} header on changes`);
    }
    return {
      user,
      via: 'proxy',
      role: user.role,
      scope: null,
      sessionIdHash: null,
      token: null,
      steppedUpAt: null,
    };
  }
  return null;
}

function needsStepUp(stepUp: NonNullable<Contract['stepUp']>, body: unknown): boolean {
  if (stepUp === 'always') return true;
  const value =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)[stepUp.bodyField]
      : undefined;
  return value === stepUp.equals;
}

function describe(name: ContractName): string {
  return CONTRACTS[name]?.summary.split(/[:;(]/)[0]?.trim() ?? name;
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name)
      return decodeURIComponent(part.slice(index + 1).trim());
  }
  return undefined;
}
