import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeLogReader } from './fake-log-reader.js';
import { build } from './helpers.js';
import { ROUTE_SCOPES } from '../src/keys/scopes.js';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { description?: string; content?: Record<string, { schema: { $ref?: string } }> }>;
  requestBody?: unknown;
}
interface Doc {
  openapi: string;
  security: Record<string, string[]>[];
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme: string; description: string }> };
  paths: Record<string, Record<string, Operation>>;
}

let app: FastifyInstance;
let doc: Doc;

beforeAll(async () => {
  ({ app } = await build({}, { logs: new FakeLogReader(), templates: { hosts: () => ['local'], contextMaxBytes: 1024, buildTimeoutMs: 1000 } }));
  const res = await app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<Doc>();
});
afterAll(async () => {
  await app.close();
});

const ROUTES: [string, string][] = [
  ['get', '/health'],
  ['get', '/metrics'],
  ['get', '/api/containers'],
  ['get', '/api/volumes'],
  ['delete', '/api/volumes/{name}'],
  ['post', '/api/containers'],
  ['post', '/api/containers/{id}/pause'],
  ['post', '/api/containers/{id}/resume'],
  ['get', '/api/containers/{id}'],
  ['delete', '/api/containers/{id}'],
  ['patch', '/api/containers/{id}'],
  ['post', '/api/containers/{id}/keepalive'],
  ['get', '/api/containers/{id}/usage'],
  ['delete', '/api/containers/{id}/llm-key'],
  ['post', '/api/containers/{id}/llm-key'],
  ['post', '/api/containers/{id}/exec'],
  ['post', '/api/containers/{id}/setup'],
  ['get', '/api/containers/{id}/setup'],
  ['post', '/api/containers/{id}/tickets'],
  ['get', '/api/containers/{id}/terminal'],
  ['get', '/api/containers/{id}/logs'],
  // w3-preview: the path-form proxy takes every method; share links
  ...['get', 'head', 'post', 'put', 'patch', 'delete', 'options'].map((m): [string, string] => [m, '/api/containers/{id}/preview/{port}/{*}']),
  ['post', '/api/containers/{id}/previews'],
  ['delete', '/api/containers/{id}/previews/{previewId}'],
  ['get', '/api/containers/{id}/files'],
  ['put', '/api/containers/{id}/files'],
  ['delete', '/api/containers/{id}/files'],
  ['get', '/api/containers/{id}/files/list'],
  ['post', '/api/containers/{id}/files/move'],
  ['post', '/api/containers/{id}/files/mkdir'],
  ['get', '/api/containers/{id}/files/watch'],
  ['get', '/api/pools'],
  // w5-templates-api
  ['post', '/api/templates'],
  ['get', '/api/templates'],
  ['get', '/api/templates/{name}'],
  ['delete', '/api/templates/{name}'],
];

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists every route, and nothing from /docs', () => {
    for (const [method, path] of ROUTES) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(listed.sort()).toEqual(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('gives every operation a unique camelCase operationId, so other languages can generate clients', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.length).toBeGreaterThanOrEqual(ROUTES.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/api/containers']?.post?.operationId).toBe('createContainer');
  });

  it('has a bearer scheme, required on /api and not on public routes', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/health']?.get?.security).toEqual([]);
    expect(doc.paths['/metrics']?.get?.security).toEqual([]);
  });

  it('names the scope every /api operation needs, as ROUTE_SCOPES enforces it, and documents 403', () => {
    const apiOps = ROUTES.filter(([, path]) => path.startsWith('/api'));
    expect(apiOps.length).toBeGreaterThan(5);
    for (const [method, path] of apiOps) {
      const op = doc.paths[path]?.[method];
      const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1').replace('{*}', '*');
      expect(op?.security, `${method} ${path}`).toEqual([{ bearer: [ROUTE_SCOPES[`${method.toUpperCase()} ${fastifyPath}`]] }]);
      expect(op?.responses['403']?.description, `${method} ${path}`).toContain('FORBIDDEN');
    }
    expect(doc.paths['/api/containers']?.get?.security).toEqual([{ bearer: ['read'] }]);
    expect(doc.paths['/api/containers']?.post?.security).toEqual([{ bearer: ['write'] }]);
    expect(doc.paths['/api/containers/{id}/exec']?.post?.security).toEqual([{ bearer: ['exec'] }]);
    expect(doc.components.securitySchemes.bearer?.description).toMatch(/read.*write.*exec.*admin/s);
  });

  it('documents bodies and error responses with the contracts schemas', () => {
    const create = doc.paths['/api/containers']?.post;
    expect(JSON.stringify(create?.requestBody)).toContain('#/components/schemas/CreateContainerBody');
    expect(create?.responses['201']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/CreatedContainer');
    for (const status of ['400', '401', '413', '415', '500', '503', '504']) {
      expect(create?.responses[status]?.content?.['application/json']?.schema.$ref, status).toBe('#/components/schemas/ErrorBody');
    }
    expect(doc.paths['/api/containers/{id}']?.get?.responses['404']).toBeDefined();
    for (const name of ['Container', 'ContainerList', 'ExecBody', 'ExecResult', 'PoolList', 'Health', 'ErrorBody', 'WorkspaceId']) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
  });

  it('keeps the refusal of unknown fields in the body schema', () => {
    expect(doc.components.schemas.CreateContainerBody).toMatchObject({ additionalProperties: false });
  });

  it('serves swagger-ui at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});
