import { DEFAULT_OWNER_LIMITS } from '@berth/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeysFileSchema, KeyRing } from '../src/keys/api-key.js';
import { mintKey } from '../src/keys/mint.js';
import { JSON_HEADERS, build, containerView } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const created = () => ({ ...containerView(), warm: false });

describe('POST /api/containers with cpus, memoryMb and diskMb', () => {
  it("passes limits within the key owner's maxima on to pool-manager", async () => {
    const small = mintKey({ name: 'small', owner: 'alice', scopes: ['write'], limits: { cpus: 1, memoryMb: 512, diskMb: 1024 } });
    let backend;
    ({ app, backend } = await build({ containerCreate: created }, { keys: new KeyRing([small.entry]), apiToken: undefined }));
    const res = await app.inject({
      method: 'POST',
      url: '/api/containers',
      headers: { authorization: `Bearer ${small.key}`, 'content-type': 'application/json' },
      payload: { cpus: 1, memoryMb: 512, diskMb: 1024 },
    });
    expect(res.statusCode).toBe(201);
    expect(backend.callsTo('containerCreate').map((c) => c.data)).toMatchObject([{ owner: 'alice', cpus: 1, memoryMb: 512, diskMb: 1024 }]);
  });

  it('refuses more than the owner may with 400 LIMIT_EXCEEDED naming each, before pool-manager', async () => {
    const small = mintKey({ name: 'small', owner: 'alice', scopes: ['write'], limits: { cpus: 1, memoryMb: 512, diskMb: 0 } });
    let backend;
    ({ app, backend } = await build({ containerCreate: created }, { keys: new KeyRing([small.entry]), apiToken: undefined }));
    const headers = { authorization: `Bearer ${small.key}`, 'content-type': 'application/json' };
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers, payload: { cpus: 1.5, memoryMb: 512, diskMb: 64 } });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', retryable: false });
    expect(error.details.map((d: { path: string }) => d.path)).toEqual(['cpus', 'diskMb']);
    expect(backend.calls).toHaveLength(0);
  });

  it('a key without limits (and the API token) has the default maxima', async () => {
    let backend;
    ({ app, backend } = await build({ containerCreate: created }));
    const over = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { memoryMb: DEFAULT_OWNER_LIMITS.memoryMb + 1 } });
    expect([over.statusCode, over.json().error.code]).toEqual([400, 'LIMIT_EXCEEDED']);
    const at = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { memoryMb: DEFAULT_OWNER_LIMITS.memoryMb } });
    expect(at.statusCode).toBe(201);
    expect(backend.callsTo('containerCreate')).toHaveLength(1);
  });

  it('refuses malformed limits as validation errors, and a keys file with bad limits', async () => {
    ({ app } = await build({ containerCreate: created }));
    for (const payload of [{ cpus: 0 }, { memoryMb: 8 }, { diskMb: 1.5 }, { cpus: '1' }]) {
      const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload });
      expect([res.statusCode, res.json().error.code], JSON.stringify(payload)).toEqual([400, 'VALIDATION_FAILED']);
    }
    const entry = { name: 'k', owner: 'o', scopes: ['write'], hash: 'a'.repeat(64) };
    expect(ApiKeysFileSchema.safeParse([{ ...entry, limits: { cpus: -1 } }]).success).toBe(false);
    expect(ApiKeysFileSchema.safeParse([{ ...entry, limits: { gpus: 1 } }]).success).toBe(false);
    expect(ApiKeysFileSchema.safeParse([{ ...entry, limits: { cpus: 4, diskMb: 0 } }]).success).toBe(true);
  });
});
