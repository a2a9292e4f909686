import { LlmKeyStateReplySchema, type Usage } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { Backend, BackendRequestOptions } from '../backend.js';
import { API_ERRORS, ID_PARAMS, errorResponses, okResponse } from '../openapi.js';
import { callOptions, containerIdOf, type RouteDeps } from './common.js';

/** egress's LLM usage is an extra: a usage answer never waits long for it. */
const LLM_USAGE_TIMEOUT_MS = 1_500;

/**
 * pool-manager's sample (which decides 404: the owner check is there) with egress's LLM usage
 * added when egress answered in time; both asked at once.
 */
export async function usageWithLlm(backend: Backend, id: string, owner: string, opts: BackendRequestOptions): Promise<Usage> {
  const llm = backend
    .request('llmUsage', { workspaceId: id }, { ...opts, timeoutMs: Math.min(opts.timeoutMs ?? LLM_USAGE_TIMEOUT_MS, LLM_USAGE_TIMEOUT_MS) })
    .catch(() => undefined);
  const sample = await backend.request('containerUsage', { id, owner }, opts);
  const llmUsage = await llm;
  return llmUsage ? { ...sample, llm: llmUsage } : sample;
}

const KEY_DOC = "The workspace's scoped LLM key (`OPENAI_API_KEY` / `ANTHROPIC_API_KEY` of its commands) is only accepted by egress. ";

export const llmKeyRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.delete(
    '/containers/:id/llm-key',
    {
      schema: {
        operationId: 'revokeLlmKey',
        tags: ['containers'],
        summary: "Revoke a container's LLM key",
        description: `${KEY_DOC}After a revoke egress answers 401 to it, and commands started afterwards get no key. Idempotent; POST gives a new key.`,
        params: ID_PARAMS,
        response: { 200: okResponse(LlmKeyStateReplySchema, 'Revoked'), ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerLlmKeyRevoke', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );

  app.post(
    '/containers/:id/llm-key',
    {
      schema: {
        operationId: 'rotateLlmKey',
        tags: ['containers'],
        summary: 'Give a container a new LLM key',
        description:
          `${KEY_DOC}The old key stops working; commands started afterwards get the new one (running processes keep the old, now refused, key). ` +
          'If egress cannot take the new key the answer is 503 and the old key stays in force.',
        params: ID_PARAMS,
        response: {
          200: okResponse(LlmKeyStateReplySchema, 'The new key is in force'),
          ...errorResponses('CONTAINER_NOT_FOUND', 'LLM_KEYS_DISABLED', ...API_ERRORS),
        },
      },
    },
    async (req) => {
      const id = containerIdOf(req.params);
      return backend.request('containerLlmKeyRotate', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
    },
  );
};
