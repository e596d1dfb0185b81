import { ErrorBody, FLOTILLA_VERSION } from '@flotilla/protocol';
import { z } from 'zod';
import type { RouteTable } from './route.js';

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Builds the OpenAPI 3.1 document from the registered routes' schemas. */
export function buildOpenApi(routes: RouteTable): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = {
    description: 'Error with a stable code',
    content: {
      'application/json': {
        schema: { type: 'object', properties: { error: schemaOf(ErrorBody, 'output') } },
      },
    },
  };
  for (const spec of routes.specs) {
    const path = spec.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [location, schema] of [
      ['path', spec.params],
      ['query', spec.query],
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
    paths[path] ??= {};
    paths[path][spec.method.toLowerCase()] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(spec.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [String(spec.status ?? 200)]: {
          description: 'Success',
          content: { 'application/json': { schema: schemaOf(spec.response, 'output') } },
        },
        default: errorResponse,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flotilla controller API',
      version: FLOTILLA_VERSION,
      description:
        'Fleet manager for NixOS hosts. Authenticate with `Authorization: Bearer <admin token>`.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
