import {
  api,
  FlotillaError,
  type Access,
  type Api,
  type Contract,
  type ContractArgs,
  type ContractName,
  type ContractOutput,
  type JsonContractName,
} from '@flotilla/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClientInfo } from '../auth/auth.service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import * as z from 'zod';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (from its contract); checked on the route that matched. */
    access?: Access;
    /** The contract's name, for logs. */
    contract?: ContractName;
  }
  interface FastifyRequest {
    /** Who the request acts as (people and tools); set by the authentication hook. */
    principal?: Principal;
  }
}

/** What a JSON handler receives: validated input and who is asking. */
export type HandlerArgs<C extends Contract> = ContractArgs<C> & {
  /** What the audit log records: the person, and the token when one was used. */
  actor: string;
  /** Who is asking; null only on public routes. */
  principal: Principal | null;
  client: ClientInfo;
};
export type JsonHandler<C extends Contract> = (args: HandlerArgs<C>) => Promise<ContractOutput<C>>;

/** Where a request comes from (the address is the proxy's client when the proxy is trusted). */
export function clientOf(request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent'];
  return { address: request.ip ?? null, userAgent: typeof agent === 'string' ? agent : null };
}

/** Routes whose handlers are not plain JSON in, JSON out; their modules register them. */
export type CustomRouteName =
  | 'login'
  | 'logout'
  | 'health'
  | 'healthDetails'
  | 'openApi'
  | 'githubWebhook'
  | 'streamBuildLog'
  | 'events'
  | 'cacheInfoFile'
  | 'cacheNarinfo'
  | 'cacheNar'
  | 'enrollAgent'
  | 'agentGateway';

/** Every JSON route's handler: a missing one is a type error, so it fails the build. */
export type ApiHandlers = {
  [K in Exclude<JsonContractName, CustomRouteName>]: JsonHandler<Api[K]>;
};

/** Fastify route options that carry a contract's access rule. */
export function routeConfig(name: ContractName): { access: Access; contract: ContractName } {
  return { access: api[name].access, contract: name };
}

/** Fastify's `:param` path syntax is the contract's own. */
export function fastifyPath(contract: Contract): string {
  return contract.path;
}

/**
 * Registers routes from the contracts of `@flotilla/protocol`: input validated with the
 * contract's schemas, the answer's status from the contract, and the access rule attached
 * to the route for the auth hook. `assertComplete` refuses to start a server on which a
 * contract has no route.
 */
export class ApiRoutes {
  private readonly registered = new Set<ContractName>();

  constructor(private readonly app: FastifyInstance) {}

  /** Registers every JSON handler. */
  addAll(handlers: ApiHandlers): void {
    for (const name of Object.keys(handlers) as (keyof ApiHandlers)[]) {
      this.add(name, handlers[name]);
    }
  }

  private add(name: keyof ApiHandlers, handler: JsonHandler<Contract>): void {
    const contract: Contract = api[name];
    if (contract.response.kind !== 'json') throw new Error(`${name} is not a JSON route`);
    const status = contract.response.status;
    this.claim(name);
    this.app.route({
      method: contract.method,
      url: fastifyPath(contract),
      config: routeConfig(name),
      handler: async (request, reply) => {
        const args = {
          params: validate('path parameters', contract.params, request.params),
          query: validate('query', contract.query, request.query),
          body: validate('body', contract.body, request.body),
          actor: request.principal ? actorOf(request.principal) : 'anonymous',
          principal: request.principal ?? null,
          client: clientOf(request),
        } as HandlerArgs<Contract>;
        const result = await handler(args);
        // Answers carry fleet state and sometimes secrets (a new token): never cached.
        return reply.status(status).header('cache-control', 'no-store').send(result);
      },
    });
  }

  /** Marks a route its own module registers (streams, raw bytes, signed webhooks). */
  claim(name: ContractName): void {
    if (this.registered.has(name)) throw new Error(`route ${name} is registered twice`);
    this.registered.add(name);
  }

  /** Throws when a contract has no route: a server never starts with an undeclared gap. */
  assertComplete(): void {
    const missing = (Object.keys(api) as ContractName[]).filter((n) => !this.registered.has(n));
    if (missing.length > 0) throw new Error(`routes without a handler: ${missing.join(', ')}`);
  }
}

function validate(what: string, schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new FlotillaError(
      'validation_failed',
      `invalid ${what}: ${z.prettifyError(parsed.error)}`,
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}
