import { BerthError } from '@berth/contracts';
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

describe('POST /api/containers/:id/pause and /resume', () => {
  it("pause and resume the caller's container through pool-manager and answer it", async () => {
    let backend;
    ({ app, backend } = await build({
      containerPause: ({ id }) => ({ ...containerView(id), state: 'paused' as const }),
      containerResume: ({ id }) => containerView(id),
    }));
    const paused = await app.inject({ method: 'POST', url: `/api/containers/${ID}/pause`, headers: AUTH });
    expect([paused.statusCode, paused.json().state]).toEqual([200, 'paused']);
    const resumed = await app.inject({ method: 'POST', url: `/api/containers/${ID}/resume`, headers: AUTH });
    expect([resumed.statusCode, resumed.json().state]).toEqual([200, 'claimed']);
    expect(backend.calls.map((c) => [c.key, c.data])).toEqual([
      ['containerPause', { id: ID, owner: 'default' }],
      ['containerResume', { id: ID, owner: 'default' }],
    ]);
  });

  it("pass pool-manager's refusals on with their status: 404 for someone else's, 503 when the budget is full, 409 CONTAINER_PAUSED for a command", async () => {
    ({ app } = await build({
      containerPause: () => {
        throw new BerthError('CONTAINER_NOT_FOUND', 'no container');
      },
      containerResume: () => {
        throw new BerthError('CAPACITY_EXHAUSTED', 'no room', { retryAfterSeconds: 5 });
      },
      containerExec: () => {
        throw new BerthError('CONTAINER_PAUSED', 'paused');
      },
    }));
    const pause = await app.inject({ method: 'POST', url: `/api/containers/${ID}/pause`, headers: AUTH });
    expect([pause.statusCode, pause.json().error.code]).toEqual([404, 'CONTAINER_NOT_FOUND']);
    const resume = await app.inject({ method: 'POST', url: `/api/containers/${ID}/resume`, headers: AUTH });
    expect([resume.statusCode, resume.json().error.code, resume.json().error.retryable]).toEqual([503, 'CAPACITY_EXHAUSTED', true]);
    const exec = await app.inject({ method: 'POST', url: `/api/containers/${ID}/exec`, headers: JSON_HEADERS, payload: { command: 'true' } });
    expect([exec.statusCode, exec.json().error.code, exec.json().error.retryable]).toEqual([409, 'CONTAINER_PAUSED', false]);
  });

  it('need the write scope', async () => {
    const reader = mintKey({ name: 'r', owner: 'alice', scopes: ['read'] });
    let backend;
    ({ app, backend } = await build({}, { keys: new KeyRing([reader.entry]), apiToken: undefined }));
    for (const action of ['pause', 'resume']) {
      const res = await app.inject({ method: 'POST', url: `/api/containers/${ID}/${action}`, headers: { authorization: `Bearer ${reader.key}` } });
      expect(res.statusCode).toBe(403);
    }
    expect(backend.calls).toHaveLength(0);
  });

  it('PATCH passes onIdle and autoResume on to pool-manager', async () => {
    let backend;
    ({ app, backend } = await build({ containerKeepalive: ({ id }) => ({ id, idleTimeoutSeconds: 1800, reapAt: '2026-12-03T13:00:00.000Z' }) }));
    const res = await app.inject({ method: 'PATCH', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: { onIdle: 'pause', autoResume: false } });
    expect(res.statusCode).toBe(200);
    expect(backend.callsTo('containerKeepalive').map((c) => c.data)).toEqual([{ id: ID, owner: 'default', onIdle: 'pause', autoResume: false }]);
    const bad = await app.inject({ method: 'PATCH', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: { onIdle: 'sleep' } });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
