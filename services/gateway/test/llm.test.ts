import {
  BerthError,
  CreateContainerReplySchema,
  LlmKeyStateReplySchema,
  UsageSchema,
  type CreateContainerRequest,
  type LlmUsage,
  type Usage,
} from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../src/keys/api-key.js';
import { mintKey } from '../src/keys/mint.js';
import { AUTH, ID, JSON_HEADERS, build, containerView } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const sample = (id: string): Usage => ({
  id,
  at: '2026-11-23T14:00:00.000Z',
  cpuPercent: 1.5,
  memoryBytes: 1000,
  memoryLimitBytes: 2000,
  pids: 3,
  netRxBytes: 10,
  netTxBytes: 20,
});
const llmUsage: LlmUsage = {
  requests: 4,
  inputTokens: 120,
  outputTokens: 80,
  costUsd: 0.0123,
  keyActive: true,
  byProvider: {
    openai: { requests: 3, inputTokens: 100, outputTokens: 60, costUsd: 0.01 },
    anthropic: { requests: 1, inputTokens: 20, outputTokens: 20, costUsd: 0.0023 },
  },
  today: { tokens: 200, costUsd: 0.0123 },
  limits: { requestsPerMinute: 60, tokensPerDay: 100_000, spendCapUsdPerDay: null },
};

describe('DELETE / POST /api/containers/:id/llm-key', () => {
  it("revokes and rotates through pool-manager with the caller's id and owner", async () => {
    let backend;
    ({ app, backend } = await build({
      containerLlmKeyRevoke: (req) => ({ id: req.id, llmKey: 'revoked' as const }),
      containerLlmKeyRotate: (req) => ({ id: req.id, llmKey: 'active' as const }),
    }));
    const del = await app.inject({ method: 'DELETE', url: `/api/containers/${ID}/llm-key`, headers: AUTH });
    expect(del.statusCode).toBe(200);
    expect(LlmKeyStateReplySchema.parse(del.json())).toEqual({ id: ID, llmKey: 'revoked' });
    const post = await app.inject({ method: 'POST', url: `/api/containers/${ID}/llm-key`, headers: AUTH });
    expect(post.statusCode).toBe(200);
    expect(LlmKeyStateReplySchema.parse(post.json())).toEqual({ id: ID, llmKey: 'active' });
    expect(backend.callsTo('containerLlmKeyRevoke')[0]).toMatchObject({ data: { id: ID, owner: 'default' } });
    expect(backend.callsTo('containerLlmKeyRotate')[0]).toMatchObject({ data: { id: ID, owner: 'default' } });
  });

  it("someone else's container is 404; egress refusing a rotate is 503 with Retry-After", async () => {
    ({ app } = await build({
      containerLlmKeyRevoke: () => {
        throw new BerthError('CONTAINER_NOT_FOUND', 'no container');
      },
      containerLlmKeyRotate: () => {
        throw new BerthError('SERVICE_UNAVAILABLE', 'egress did not accept the new LLM key', { retryAfterSeconds: 2 });
      },
    }));
    const del = await app.inject({ method: 'DELETE', url: `/api/containers/${ID}/llm-key`, headers: AUTH });
    expect(del.statusCode).toBe(404);
    expect(del.json()).toMatchObject({ error: { code: 'CONTAINER_NOT_FOUND' } });
    const post = await app.inject({ method: 'POST', url: `/api/containers/${ID}/llm-key`, headers: AUTH });
    expect(post.statusCode).toBe(503);
    expect(post.headers['retry-after']).toBe('2');
  });

  it('needs the write scope: a read-only key is 403 and reaches nothing', async () => {
    const reader = mintKey({ name: 'r', owner: 'alice', scopes: ['read'] });
    const writer = mintKey({ name: 'w', owner: 'alice', scopes: ['write'] });
    let backend;
    ({ app, backend } = await build(
      {
        containerLlmKeyRevoke: (req) => ({ id: req.id, llmKey: 'revoked' as const }),
        containerLlmKeyRotate: (req) => ({ id: req.id, llmKey: 'active' as const }),
      },
      { keys: new KeyRing([reader.entry, writer.entry]), apiToken: undefined },
    ));
    for (const method of ['DELETE', 'POST'] as const) {
      const denied = await app.inject({ method, url: `/api/containers/${ID}/llm-key`, headers: { authorization: `Bearer ${reader.key}` } });
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(backend.calls).toHaveLength(0);
    const ok = await app.inject({ method: 'POST', url: `/api/containers/${ID}/llm-key`, headers: { authorization: `Bearer ${writer.key}` } });
    expect(ok.statusCode).toBe(200);
    expect(backend.callsTo('containerLlmKeyRotate')[0]).toMatchObject({ data: { owner: 'alice' } });
  });

  it('a malformed id is 404 without reaching pool-manager', async () => {
    let backend;
    ({ app, backend } = await build({ containerLlmKeyRevoke: (req) => ({ id: req.id, llmKey: 'revoked' as const }) }));
    const res = await app.inject({ method: 'DELETE', url: '/api/containers/nope/llm-key', headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(backend.calls).toHaveLength(0);
  });
});

describe('GET /api/containers/:id/usage with LLM usage', () => {
  it("adds egress's llm usage, asked with the workspace id", async () => {
    let backend;
    ({ app, backend } = await build({ containerUsage: (req) => sample(req.id), llmUsage: () => llmUsage }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(UsageSchema.parse(res.json())).toEqual({ ...sample(ID), llm: llmUsage });
    expect(backend.callsTo('llmUsage')[0]).toMatchObject({ data: { workspaceId: ID } });
    expect(backend.callsTo('llmUsage')[0]?.opts?.timeoutMs).toBeLessThanOrEqual(1_500);
  });

  it('egress silent (no responders, or an error): the sample without llm', async () => {
    ({ app } = await build({ containerUsage: (req) => sample(req.id) }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(sample(ID));
    await app.close();
    ({ app } = await build({
      containerUsage: (req) => sample(req.id),
      llmUsage: () => {
        throw new BerthError('TIMEOUT', 'slow');
      },
    }));
    const slow = await app.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: AUTH });
    expect(slow.statusCode).toBe(200);
    expect(slow.json()).not.toHaveProperty('llm');
  });

  it("pool-manager decides 404 first: another owner's workspace never shows egress's figures", async () => {
    ({ app } = await build({
      containerUsage: () => {
        throw new BerthError('CONTAINER_NOT_FOUND', 'no container');
      },
      llmUsage: () => llmUsage,
    }));
    const res = await app.inject({ method: 'GET', url: `/api/containers/${ID}/usage`, headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('inputTokens');
  });
});

describe('POST /api/containers with llm limits', () => {
  const created = (req: CreateContainerRequest) => ({ ...containerView(), name: req.name ?? 'auto', warm: true });

  it('passes valid limits through to pool-manager', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }));
    const llm = { requestsPerMinute: 10, tokensPerDay: 50_000, spendCapUsdPerDay: 2.5 };
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { llm } });
    expect(res.statusCode).toBe(201);
    CreateContainerReplySchema.parse(res.json());
    expect(backend.callsTo('containerCreate')[0]?.data).toMatchObject({ llm });
  });

  it.each([
    [{ requestsPerMinute: 0 }, 'VALIDATION_FAILED'],
    [{ tokensPerDay: 1.5 }, 'VALIDATION_FAILED'],
    [{ spendCapUsdPerDay: -1 }, 'VALIDATION_FAILED'],
    [{ requestsPerMinute: 'many' }, 'VALIDATION_FAILED'],
    [{ requestsPerHour: 5 }, 'UNKNOWN_FIELD'],
  ])('bad limits %j are 400 %s and reach nothing', async (llm, code) => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }));
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { llm } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code } });
    expect(backend.calls).toHaveLength(0);
  });
});
