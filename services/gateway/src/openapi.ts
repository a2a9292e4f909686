import { ErrorBodySchema, WorkspaceIdSchema, httpStatusOf, type ErrorCode } from '@berth/contracts';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { scopeOf } from './keys/scopes.js';

/**
 * OpenAPI 3.1 from the contracts' zod schemas. Route `schema`s are documentation only: app.ts
 * installs a validator that passes values through and a plain JSON serializer; handlers
 * validate with the contracts themselves.
 */

const COMPONENT_PREFIX = '#/components/schemas/';

/** Every schema the contracts register with an `id`, as JSON Schema 2020-12 components. */
function componentSchemas(): Record<string, Record<string, unknown>> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', uri: (id) => `${COMPONENT_PREFIX}${id}` });
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $id: _id, $schema: _schema, ...rest } = schema as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

/** A `$ref` to the component of a contracts schema registered with `.meta({ id })`. */
export function ref(schema: z.ZodType): { $ref: string } {
  const id = z.globalRegistry.get(schema)?.id;
  if (id === undefined) throw new Error('schema has no id in the zod global registry');
  return { $ref: `${COMPONENT_PREFIX}${id}` };
}

export function okResponse(schema: z.ZodType, description: string): { description: string; $ref: string } {
  return { description, ...ref(schema) };
}

/** Error responses by status, each an ErrorBody, described by the codes that produce it. */
export function errorResponses(...codes: ErrorCode[]): Record<number, { description: string; $ref: string }> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(httpStatusOf(code), [...(byStatus.get(httpStatusOf(code)) ?? []), code]);
  const out: Record<number, { description: string; $ref: string }> = {};
  for (const [status, cs] of byStatus) out[status] = { description: cs.join(', '), ...ref(ErrorBodySchema) };
  return out;
}

/** Errors any /api route can return. */
export const API_ERRORS: ErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN', 'INTERNAL', 'SERVICE_UNAVAILABLE', 'TIMEOUT'];

/** Errors of any route with a JSON body. */
export const BODY_ERRORS: ErrorCode[] = [
  'VALIDATION_FAILED',
  'UNKNOWN_FIELD',
  'FORBIDDEN_OPTION',
  'INVALID_NAME',
  'INVALID_JSON',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

/** Path parameters of /containers/:id routes. */
export const ID_PARAMS = { type: 'object', properties: { id: ref(WorkspaceIdSchema) }, required: ['id'] };

/** Marks a route as needing no token in the document. */
export const PUBLIC = { security: [] as Record<string, string[]>[] };

const SCOPES_DESCRIPTION =
  'An API key (or BERTH_API_TOKEN, which acts as an admin key of owner `default`). ' +
  'Each operation lists the scope it needs: `read` (list and get containers, pools), `write` (create and delete containers), ' +
  '`exec` (exec, terminal, tickets, logs); `admin` holds every scope. A key without the scope gets 403 FORBIDDEN. ' +
  "Containers belong to the key's owner: another owner's container answers 404 CONTAINER_NOT_FOUND.";

export async function registerOpenApi(app: FastifyInstance, opts: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'berth API',
        version: opts.version,
        description: 'Pre-warmed, isolated workspaces for coding agents. Every error is `{ error: { code, message, retryable } }`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: SCOPES_DESCRIPTION } },
        schemas: componentSchemas(),
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'containers', description: 'Workspaces claimed by the caller' },
        { name: 'pools', description: 'Warm pools' },
        { name: 'volumes', description: 'Named volumes of the caller, kept across its containers' },
        { name: 'templates', description: 'Workspace images the caller builds from a Dockerfile, on every host' },
        { name: 'system', description: 'Health and metrics' },
      ],
    },
    // Each /api operation names the scope its API key needs (OpenAPI 3.1 allows roles for http schemes).
    transform: ({ schema, url, route }) => {
      const scope = [route.method]
        .flat()
        .map((m) => scopeOf(m, url))
        .find((s) => s !== undefined);
      return { schema: scope === undefined ? schema : ({ ...schema, security: [{ bearer: [scope] }] } as typeof schema), url };
    },
    transformObject: (doc) => methodSuffixedOperationIds((doc as { openapiObject: OpenApiPaths }).openapiObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

interface OpenApiPaths {
  paths?: Record<string, Record<string, { operationId?: string }>>;
}

/**
 * One route serving several methods (the preview proxy) shares one schema, so its operationId
 * would repeat: each method's operation gets the method appended (`proxyPreviewGet`, …).
 */
function methodSuffixedOperationIds<T extends OpenApiPaths>(doc: T): T {
  for (const ops of Object.values(doc.paths ?? {})) {
    const ids = Object.values(ops).map((op) => op.operationId);
    for (const [method, op] of Object.entries(ops)) {
      if (op.operationId !== undefined && ids.filter((id) => id === op.operationId).length > 1) {
        // The methods share one operation object: each gets its own copy.
        ops[method] = { ...op, operationId: `${op.operationId}${method[0]!.toUpperCase()}${method.slice(1).toLowerCase()}` };
      }
    }
  }
  return doc;
}
