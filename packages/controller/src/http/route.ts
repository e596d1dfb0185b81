import { FlotillaError } from '@flotilla/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';

/** What a route handler receives: validated input and who is asking. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: string;
}

export interface RouteSpec<P, Q, B, R> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify path syntax, e.g. `/api/v1/hosts/:name`. */
  url: string;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response: z.ZodType<R>;
  status?: number;
  /** Public routes skip the admin token check. */
  public?: boolean;
  handler: (input: RouteInput<P, Q, B>) => Promise<R>;
}

// Specs are stored type-erased for the OpenAPI document.
type AnySpec = RouteSpec<unknown, unknown, unknown, unknown>;

/**
 * Registers routes whose input is validated with the protocol's zod schemas, and keeps
 * their specs so that the OpenAPI document is generated from the same schemas.
 */
export class RouteTable {
  readonly specs: AnySpec[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly actorOf: (request: FastifyRequest) => string,
  ) {}

  add<P, Q, B, R>(spec: RouteSpec<P, Q, B, R>): void {
    this.specs.push(spec as unknown as AnySpec);
    this.app.route({
      method: spec.method,
      url: spec.url,
      config: { public: spec.public === true },
      handler: async (request, reply) => {
        const input = {
          params: validate('path parameters', spec.params, request.params),
          query: validate('query', spec.query, request.query),
          body: validate('body', spec.body, request.body),
          actor: this.actorOf(request),
        };
        const result = await spec.handler(input);
        return reply.status(spec.status ?? 200).send(result);
      },
    });
  }
}

function validate<T>(what: string, schema: z.ZodType<T> | undefined, value: unknown): T {
  if (!schema) return undefined as T;
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
