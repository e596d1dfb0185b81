import { api, ErrorBody, FLOTILLA_VERSION, type Contract } from '@flotilla/protocol';
import * as z from 'zod';

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const SECURITY: Record<Contract['access'], unknown[] | undefined> = {
  public: [],
  viewer: [{ bearer: [] }],
  operator: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  host: [{ cacheCredential: [] }],
  enrollment: [],
  webhook: [],
};

function parametersOf(contract: Contract): unknown[] {
  const parameters: unknown[] = [];
  for (const [location, schema] of [
    ['path', contract.params],
    ['query', contract.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input') as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      parameters.push({
        name,
        in: location,
        required: location === 'path' || (json.required ?? []).includes(name),
        schema: property,
      });
    }
  }
  return parameters;
}

function responseOf(contract: Contract): Record<string, unknown> {
  const response = contract.response;
  switch (response.kind) {
    case 'json':
      return {
        [String(response.status)]: {
          description: 'Success',
          content: { 'application/json': { schema: schemaOf(response.schema, 'output') } },
        },
      };
    case 'sse':
      return {
        [String(response.status)]: {
          description: `${response.description}. Events: ${Object.keys(response.events).join(', ')}`,
          content: {
            'text/event-stream': {
              schema: {
                oneOf: Object.entries(response.events).map(([event, schema]) => ({
                  title: event,
                  ...schemaOf(schema, 'output'),
                })),
              },
            },
          },
        },
      };
    case 'raw':
      return {
        [String(response.status)]: {
          description: response.description,
          content: { [response.contentType]: { schema: { type: 'string' } } },
        },
      };
    case 'websocket':
      return { '101': { description: response.description } };
  }
}

/** The OpenAPI 3.1 document, from the contracts of `@flotilla/protocol` (every route). */
export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = {
    description: 'Error with a stable code',
    content: {
      'application/json': {
        schema: { type: 'object', properties: { error: schemaOf(ErrorBody, 'output') } },
      },
    },
  };
  for (const [name, contract] of Object.entries(api) as [string, Contract][]) {
    const path = contract.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = parametersOf(contract);
    paths[path] ??= {};
    paths[path][contract.method.toLowerCase()] = {
      operationId: name,
      summary: contract.summary,
      tags: [contract.tag],
      'x-access': contract.access,
      security: SECURITY[contract.access],
      ...(parameters.length ? { parameters } : {}),
      ...(contract.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(contract.body, 'input') } },
            },
          }
        : {}),
      responses: { ...responseOf(contract), default: errorResponse },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flotilla controller API',
      version: FLOTILLA_VERSION,
      description:
        'Fleet manager for NixOS hosts. People and tools authenticate with `Authorization: Bearer <admin token>`. Agents enroll once with a one-time enrollment token and their own Ed25519 public key, then prove that key on the agent gateway by signing a challenge; they read the binary cache with short-lived credentials issued over that connection. The GitHub webhook is authenticated by its HMAC signature.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cacheCredential: {
          type: 'http',
          scheme: 'basic',
          description:
            "A host's short-lived cache credential (asked for over its agent connection), as the Basic password (netrc) or a Bearer token",
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
