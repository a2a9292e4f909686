import { Writable } from 'node:stream';
import { BerthError, SetupStatusSchema, type SetupStatus } from '@berth/contracts';
import { createLogger } from '@berth/service-kit';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, ID, JSON_HEADERS, build } from './helpers.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const status = (over: Partial<SetupStatus> = {}): SetupStatus => ({
  id: ID,
  seq: 1,
  phase: 'queued',
  repo: 'acme/app',
  branch: 'main',
  at: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:00.000Z',
  durations: {},
  ...over,
});
const url = `/api/containers/${ID}/setup`;

describe('POST /api/containers/:id/setup', () => {
  it('answers 202 with the first status and passes the body to pool-manager', async () => {
    let backend;
    ({ app, backend } = await build({ setupStart: () => status() }));
    const body = { repo: 'acme/app', branch: 'feature/x', githubToken: 'ghp_abc', envVars: { A: '1' } };
    const res = await app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload: body });
    expect(res.statusCode).toBe(202);
    expect(SetupStatusSchema.parse(res.json()).phase).toBe('queued');
    expect(backend.callsTo('setupStart')[0]?.data).toEqual({ id: ID, owner: 'default', body });
  });

  it.each([
    [{ repo: 'acme/app', branch: 'main;id' }, 'VALIDATION_FAILED'],
    [{ repo: 'acme/app', branch: '$(reboot)' }, 'VALIDATION_FAILED'],
    [{ repo: '../x', branch: 'main' }, 'VALIDATION_FAILED'],
    [{ repo: 'acme/app', branch: 'main', extra: true }, 'UNKNOWN_FIELD'],
    [{ repo: 'acme/app', branch: 'main', callbackUrl: 'https://x.example/h' }, 'VALIDATION_FAILED'],
    [{ repo: 'acme/app', branch: 'main', envVars: { 'A-B': 'x' } }, 'VALIDATION_FAILED'],
  ])('refuses %j with 400 %s before asking pool-manager', async (body, code) => {
    let backend;
    ({ app, backend } = await build({ setupStart: () => status() }));
    const res = await app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code } });
    expect(backend.callsTo('setupStart')).toHaveLength(0);
  });

  it('maps CALLBACK_URL_REFUSED to 400, SETUP_IN_PROGRESS to 409 and an unknown container to 404', async () => {
    for (const [code, http] of [
      ['CALLBACK_URL_REFUSED', 400],
      ['SETUP_IN_PROGRESS', 409],
      ['CONTAINER_NOT_FOUND', 404],
    ] as const) {
      ({ app } = await build({
        setupStart: () => {
          throw new BerthError(code, 'no');
        },
      }));
      const res = await app.inject({ method: 'POST', url, headers: JSON_HEADERS, payload: { repo: 'acme/app', branch: 'main' } });
      expect(res.statusCode, code).toBe(http);
      await app.close();
    }
    app = undefined;
  });

  it('an id that cannot exist is 404 without a backend call', async () => {
    let backend;
    ({ app, backend } = await build({ setupStart: () => status() }));
    const res = await app.inject({ method: 'POST', url: '/api/containers/nope/setup', headers: JSON_HEADERS, payload: { repo: 'acme/app', branch: 'main' } });
    expect(res.statusCode).toBe(404);
    expect(backend.calls).toHaveLength(0);
  });

  it('GET answers the latest status, SETUP_NOT_FOUND as 404', async () => {
    ({ app } = await build({ setupGet: () => status({ seq: 4, phase: 'ready', sha: 'a'.repeat(40) }) }));
    const res = await app.inject({ method: 'GET', url, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ phase: 'ready', seq: 4 });
    await app.close();
    ({ app } = await build({
      setupGet: () => {
        throw new BerthError('SETUP_NOT_FOUND', 'none');
      },
    }));
    expect((await app.inject({ method: 'GET', url, headers: AUTH })).statusCode).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    ({ app } = await build());
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/containers/{id}/setup'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
  });
});

describe('log redaction', () => {
  it('never writes githubToken, callbackSecret or envVars values', () => {
    let out = '';
    const logger = createLogger(
      'gateway',
      'info',
      new Writable({
        write(c: Buffer, _e, done) {
          out += c.toString();
          done();
        },
      }) as never,
    );
    logger.info({ body: { githubToken: 'ghp_tok', callbackSecret: 'cb-secret-value', envVars: { K: 'env-secret' } } }, 'x');
    logger.info({ req: { body: { envVars: { K: 'env-secret' }, githubToken: 'ghp_tok' } } }, 'y');
    expect(out).not.toMatch(/ghp_tok|cb-secret-value|env-secret/);
    expect(out).toContain('[redacted]');
  });
});
