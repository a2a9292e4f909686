import {
  BerthError,
  TemplateBuildBodySchema,
  TemplateBuildEventSchema,
  TemplateDeletedSchema,
  TemplateInfoSchema,
  TemplateListSchema,
  TemplateNameSchema,
  parseOrThrow,
  type TemplateInfo,
  type TemplateOnHost,
  type TemplateView,
} from '@berth/contracts';
import { readTarFile } from '@berth/service-kit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { API_ERRORS, BODY_ERRORS, errorResponses, okResponse, ref } from '../openapi.js';
import type { StreamBackend } from '../streams/stream-backend.js';
import { streamTemplateBuild } from '../templates/template-build.js';
import { callOptions, parseBody, type RouteDeps } from './common.js';

export interface TemplateOptions {
  /** The hosts a template is built on and asked about: every host that answers. */
  hosts: () => string[];
  contextMaxBytes: number;
  buildTimeoutMs: number;
}

const TAR = 'application/x-tar';
const NAME_PARAMS = { type: 'object', properties: { name: ref(TemplateNameSchema) }, required: ['name'] };
const TarQuerySchema = z.strictObject({ name: TemplateNameSchema });
const isTar = (req: FastifyRequest) => (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() === TAR;

/** A name that cannot be a template is answered like a template that does not exist. */
function templateNameOf(params: unknown): string {
  const parsed = z.object({ name: TemplateNameSchema }).safeParse(params);
  if (!parsed.success) throw new BerthError('TEMPLATE_NOT_FOUND', 'template not found');
  return parsed.data.name;
}

const onHost = (hostId: string, { name: _name, ...view }: TemplateView): TemplateOnHost => ({ hostId, ...view });

/**
 * Every host's answer, or its error. When no host answered, the most telling error is thrown: a
 * refusal or an unreachable host beats "not found" on the others.
 */
async function askEveryHost<T>(hosts: string[], ask: (hostId: string) => Promise<T>): Promise<{ hostId: string; value: T }[]> {
  const results = await Promise.allSettled(hosts.map(ask));
  const answers = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ hostId: hosts[i]!, value: r.value }] : []));
  if (answers.length > 0) return answers;
  const errors = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
  throw errors.find((e) => !(e instanceof BerthError) || e.code !== 'TEMPLATE_NOT_FOUND') ?? errors[0];
}

/** Owners' templates, built on every host by its image-builder (docs/templates.md). */
export const templateRoutes: FastifyPluginAsync<RouteDeps & TemplateOptions & { streams: StreamBackend }> = async (app, opts) => {
  const { backend, requestTimeoutMs, streams, hosts, contextMaxBytes, buildTimeoutMs } = opts;
  // A tar context is read whole (bounded): its Dockerfile is checked on every host before anything builds.
  app.addContentTypeParser(TAR, { parseAs: 'buffer', bodyLimit: contextMaxBytes }, (_req, body, done) => done(null, body));

  app.post(
    '/templates',
    {
      schema: {
        operationId: 'buildTemplate',
        tags: ['templates'],
        summary: 'Build a template on every host',
        description: `JSON \`{name, dockerfile}\` (an empty context), or a tar context (\`Content-Type: ${TAR}\`, uncompressed, a \`Dockerfile\` at its root, at most ${contextMaxBytes} bytes) with \`?name=\`. Every FROM must be a berth workspace image or one of your templates; builds have no network. The Dockerfile is checked on every host first: a refusal is a plain 4xx and nothing builds. Then the answer streams \`TemplateBuildEvent\`s: NDJSON by default, SSE with \`Accept: text/event-stream\`; \`output\` as each host builds, \`built\` or \`failed\` per host, \`done\` last (a template is usable on the hosts it was built on). Closing the connection cancels the builds.`,
        querystring: { type: 'object', properties: { name: { ...ref(TemplateNameSchema), description: `with a ${TAR} body: the template's name` } } },
        body: ref(TemplateBuildBodySchema),
        response: {
          200: {
            description: 'The builds, as they run',
            content: {
              'application/x-ndjson': { schema: ref(TemplateBuildEventSchema) },
              'text/event-stream': { schema: ref(TemplateBuildEventSchema) },
            },
          },
          ...errorResponses(
            ...BODY_ERRORS,
            'TEMPLATE_BASE_NOT_ALLOWED',
            'TEMPLATE_INSTRUCTION_NOT_ALLOWED',
            'TEMPLATE_LIMIT_REACHED',
            'TEMPLATE_BUILD_IN_PROGRESS',
            ...API_ERRORS,
          ),
        },
      },
    },
    async (req, reply) => {
      let input: { name: string; dockerfile: string; context?: Buffer };
      if (isTar(req)) {
        const { name } = parseOrThrow(TarQuerySchema, req.query, 'query');
        const context = req.body as Buffer;
        const dockerfile = readTarFile(context, 'Dockerfile')?.toString('utf8');
        if (!dockerfile) throw new BerthError('VALIDATION_FAILED', 'the tar context has no Dockerfile at its root (an uncompressed tar is expected)');
        input = { name, dockerfile: parseOrThrow(TemplateBuildBodySchema.shape.dockerfile, dockerfile, 'Dockerfile'), context };
      } else {
        input = parseBody(TemplateBuildBodySchema, req);
      }
      await streamTemplateBuild({ backend, streams, hosts, requestTimeoutMs, buildTimeoutMs }, { owner: req.owner, ...input }, req, reply);
    },
  );

  app.get(
    '/templates',
    {
      schema: {
        operationId: 'listTemplates',
        tags: ['templates'],
        summary: 'List your templates',
        description: 'Each with the hosts it is built on. Ordered by name.',
        response: { 200: okResponse(TemplateListSchema, 'Your templates'), ...errorResponses(...API_ERRORS) },
      },
    },
    async (req) => {
      const answers = await askEveryHost(hosts(), (hostId) =>
        backend.request('templateList', { owner: req.owner }, { ...callOptions(req, requestTimeoutMs), hostId }),
      );
      const byName = new Map<string, TemplateInfo>();
      for (const { hostId, value } of answers) {
        for (const t of value.templates) {
          const info = byName.get(t.name) ?? { name: t.name, hosts: [] };
          info.hosts.push(onHost(hostId, t));
          byName.set(t.name, info);
        }
      }
      const templates = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
      return { templates, count: templates.length, limit: Math.min(...answers.map((a) => a.value.limit)) };
    },
  );

  app.get(
    '/templates/:name',
    {
      schema: {
        operationId: 'getTemplate',
        tags: ['templates'],
        summary: 'One of your templates, with the hosts it is built on',
        params: NAME_PARAMS,
        response: { 200: okResponse(TemplateInfoSchema, 'The template'), ...errorResponses('TEMPLATE_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const name = templateNameOf(req.params);
      const answers = await askEveryHost(hosts(), (hostId) =>
        backend.request('templateGet', { owner: req.owner, name }, { ...callOptions(req, requestTimeoutMs), hostId }),
      );
      return { name, hosts: answers.map((a) => onHost(a.hostId, a.value)) };
    },
  );

  app.delete(
    '/templates/:name',
    {
      schema: {
        operationId: 'deleteTemplate',
        tags: ['templates'],
        summary: 'Delete one of your templates on every host',
        description: 'New workspaces cannot use it any more (TEMPLATE_NOT_FOUND); running ones keep it until they are removed.',
        params: NAME_PARAMS,
        response: { 200: okResponse(TemplateDeletedSchema, 'Removed'), ...errorResponses('TEMPLATE_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const name = templateNameOf(req.params);
      const answers = await askEveryHost(hosts(), (hostId) =>
        backend.request('templateDelete', { owner: req.owner, name }, { ...callOptions(req, requestTimeoutMs), hostId }),
      );
      return { name, removed: true as const, hosts: answers.map((a) => a.hostId).sort() };
    },
  );
};
