import { request as httpRequest } from 'node:http';
import { BerthError, IdleStateSchema, type IdleState } from '@berth/contracts';
import { sleep } from '@berth/service-kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../src/keys/api-key.js';
import { mintKey } from '../src/keys/mint.js';
import { EndlessLogReader, FakeLogReader } from './fake-log-reader.js';
import { AUTH, ID, JSON_HEADERS, build, containerView, type Handlers } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const state = (id: string, seconds: number): IdleState => ({ id, idleTimeoutSeconds: seconds, reapAt: '2026-12-03T13:00:00.000Z' });
const keepalive: Handlers['containerKeepalive'] = (req) => state(req.id, req.idleTimeoutSeconds ?? 1800);

describe('PATCH /api/containers/:id and POST /api/containers/:id/keepalive', () => {
  it("set the idle timeout and keep alive through pool-manager, for the caller's container", async () => {
    let backend;
    ({ app, backend } = await build({ containerKeepalive: keepalive }));
    const patch = await app.inject({ method: 'PATCH', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: { idleTimeoutSeconds: 7200 } });
    expect(patch.statusCode).toBe(200);
    expect(IdleStateSchema.parse(patch.json())).toMatchObject({ id: ID, idleTimeoutSeconds: 7200 });
    const kept = await app.inject({ method: 'POST', url: `/api/containers/${ID}/keepalive`, headers: AUTH });
    expect(kept.statusCode).toBe(200);
    expect(backend.callsTo('containerKeepalive').map((c) => c.data)).toEqual([
      { id: ID, owner: 'default', idleTimeoutSeconds: 7200 },
      { id: ID, owner: 'default' },
    ]);
  });

  it("refuses a bad body with its code before pool-manager; over the host's maximum is IDLE_TIMEOUT_TOO_LONG (400)", async () => {
    let backend;
    ({ app, backend } = await build({
      containerKeepalive: () => {
        throw new BerthError('IDLE_TIMEOUT_TOO_LONG', 'idleTimeoutSeconds must be at most 86400 on this host');
      },
    }));
    const bad: [unknown, string][] = [
      [{ idleTimeoutSeconds: 10 }, 'VALIDATION_FAILED'],
      [{ idleTimeoutSeconds: 1.5e3 + 0.5 }, 'VALIDATION_FAILED'],
      [{ idleTimeoutSeconds: '600' }, 'VALIDATION_FAILED'],
      [{}, 'VALIDATION_FAILED'],
      [{ idleTimeoutSeconds: 600, image: 'x' }, 'UNKNOWN_FIELD'],
    ];
    for (const [payload, code] of bad) {
      const res = await app.inject({ method: 'PATCH', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: payload as object });
      expect([res.statusCode, res.json().error.code], JSON.stringify(payload)).toEqual([400, code]);
    }
    const none = await app.inject({ method: 'PATCH', url: `/api/containers/${ID}`, headers: AUTH });
    expect(none.statusCode).toBe(400);
    const nope = await app.inject({ method: 'PATCH', url: '/api/containers/nope', headers: JSON_HEADERS, payload: { idleTimeoutSeconds: 600 } });
    expect(nope.statusCode).toBe(404);
    expect(backend.calls).toHaveLength(0);
    const tooLong = await app.inject({ method: 'PATCH', url: `/api/containers/${ID}`, headers: JSON_HEADERS, payload: { idleTimeoutSeconds: 999_999 } });
    expect([tooLong.statusCode, tooLong.json().error.code]).toEqual([400, 'IDLE_TIMEOUT_TOO_LONG']);
  });

  it('need the write scope', async () => {
    const reader = mintKey({ name: 'r', owner: 'alice', scopes: ['read'] });
    let backend;
    ({ app, backend } = await build({ containerKeepalive: keepalive }, { keys: new KeyRing([reader.entry]), apiToken: undefined }));
    const headers = { authorization: `Bearer ${reader.key}` };
    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/containers/${ID}`,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: { idleTimeoutSeconds: 600 },
    });
    const post = await app.inject({ method: 'POST', url: `/api/containers/${ID}/keepalive`, headers });
    expect([patch.statusCode, post.statusCode]).toEqual([403, 403]);
    expect(backend.calls).toHaveLength(0);
  });
});

describe('a followed log stream is use of its container', () => {
  it('keeps it alive on open and every interval while followed, and stops when the client goes away', async () => {
    let backend;
    ({ app, backend } = await build(
      { containerGet: ({ id }) => containerView(id), containerKeepalive: keepalive },
      { logs: new EndlessLogReader(), logActivityEveryMs: 50 },
    ));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const req = httpRequest(new URL(`/api/containers/${ID}/logs`, address), { headers: AUTH });
    await new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
    await sleep(400);
    req.destroy();
    await sleep(100);
    const whileOpen = backend.callsTo('containerKeepalive').length;
    expect(whileOpen).toBeGreaterThanOrEqual(3);
    expect(backend.callsTo('containerKeepalive')[0]?.data).toEqual({ id: ID, owner: 'default' });
    await sleep(300);
    expect(backend.callsTo('containerKeepalive')).toHaveLength(whileOpen);
  });

  it('a one-off read (follow=false) is not', async () => {
    let backend;
    const logs = new FakeLogReader();
    logs.add('hello');
    ({ app, backend } = await build({ containerGet: ({ id }) => containerView(id), containerKeepalive: keepalive }, { logs, logActivityEveryMs: 50 }));
    const res = await app.inject({ url: `/api/containers/${ID}/logs?follow=false`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(backend.callsTo('containerKeepalive')).toHaveLength(0);
  });
});
