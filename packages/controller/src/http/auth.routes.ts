import { api, FlotillaError, LoginRequest, SESSION_COOKIE } from '@flotilla/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import type { TokensService } from '../auth/tokens.service.js';
import type { UsersService } from '../auth/users.service.js';
import { clientOf, routeConfig, type ApiHandlers, type ApiRoutes } from './route.js';

export interface AuthRouteServices {
  auth: AuthService;
  users: UsersService;
  tokens: TokensService;
  /** `config.publicUrl`: an https one makes the session cookie Secure even behind a proxy. */
  publicUrl: string | undefined;
}

type AuthRoutes = Pick<
  ApiHandlers,
  | 'setup'
  | 'logoutEverywhere'
  | 'tokenLogin'
  | 'stepUp'
  | 'me'
  | 'changePassword'
  | 'startTotp'
  | 'confirmTotp'
  | 'disableTotp'
  | 'listUsers'
  | 'createUser'
  | 'updateUser'
  | 'listTokens'
  | 'createToken'
  | 'revokeToken'
>;

/** People and tools: the first admin, logins, step-up, TOTP, users and API tokens. */
export function authRoutes(s: AuthRouteServices): AuthRoutes {
  return {
    setup: ({ body }) => s.users.setup(body),
    logoutEverywhere: ({ principal }) => s.auth.logoutEverywhere(must(principal)),
    tokenLogin: async ({ body, client }) => {
      const user = await s.auth.checkCredentials(body, client);
      return s.tokens.create(
        user,
        { name: body.name, scope: body.scope, expiresInDays: body.expiresInDays },
        user.username,
      );
    },
    stepUp: ({ principal, body }) => s.auth.stepUp(must(principal), body.code),
    me: async ({ principal }) => s.auth.me(must(principal)),
    changePassword: ({ principal, body }) => s.auth.changePassword(must(principal), body),
    startTotp: ({ principal }) => s.auth.startTotp(must(principal)),
    confirmTotp: ({ principal, body }) => s.auth.confirmTotp(must(principal), body.code),
    disableTotp: ({ principal, body }) => s.auth.disableTotp(must(principal), body.code),
    listUsers: () => s.users.list(),
    createUser: ({ principal, body }) => s.users.add(body, must(principal)),
    updateUser: ({ principal, params, body }) =>
      s.users.update(params.username, body, must(principal)),
    listTokens: ({ principal, query }) => s.tokens.list(must(principal), query.all === 'true'),
    createToken: ({ principal, body }) => {
      const p = must(principal);
      return s.tokens.create(p.user, body, p.user.username);
    },
    revokeToken: ({ principal, params }) => s.tokens.revoke(must(principal), params.id),
  };
}

/**
 * Log in and out for a browser: the session id travels only in an HttpOnly, SameSite=Strict
 * cookie (Secure over https), never in a body or URL.
 */
export function registerSessionRoutes(
  app: FastifyInstance,
  routes: ApiRoutes,
  s: AuthRouteServices,
): void {
  routes.claim('login');
  app.post(api.login.path, { config: routeConfig('login') }, async (request, reply) => {
    const parsed = LoginRequest.safeParse(request.body);
    if (!parsed.success) throw new FlotillaError('validation_failed', 'give username and password');
    const { answer, sessionId, maxAgeSeconds } = await s.auth.login(parsed.data, clientOf(request));
    reply.header('set-cookie', sessionCookie(request, s.publicUrl, sessionId, maxAgeSeconds));
    reply.header('cache-control', 'no-store');
    return reply.status(201).send(answer);
  });
  routes.claim('logout');
  app.delete(api.logout.path, { config: routeConfig('logout') }, async (request, reply) => {
    const answer = await s.auth.logout(must(request.principal));
    reply.header('set-cookie', sessionCookie(request, s.publicUrl, '', 0));
    return reply.send(answer);
  });
}

function sessionCookie(
  request: FastifyRequest,
  publicUrl: string | undefined,
  value: string,
  maxAgeSeconds: number,
): string {
  const secure = request.protocol === 'https' || publicUrl?.startsWith('https:') === true;
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

function must(principal: Principal | null | undefined): Principal {
  if (!principal) throw new FlotillaError('unauthorized', 'log in first');
  return principal;
}
