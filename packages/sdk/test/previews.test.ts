import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Berth, BerthApiError } from '../src/index.js';
import { berthCli } from './cli.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

let fake: FakeGateway;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
});

const LINK = { previewId: 'pv_0123456789abcdef', id: VIEW.id, port: 3000, expiresAt: '2026-12-03T16:00:00.000Z', url: `http://x/preview/s/${'S'.repeat(43)}/` };
const berth = () => new Berth({ url: fake.url, apiKey: 'k' });

describe('SDK: container.previews', () => {
  test('url(port) is the path form; share() POSTs once (never retried); revoke() DELETEs', async () => {
    fake.replies([200, VIEW], [201, LINK], [200, { previewId: LINK.previewId, revoked: true }]);
    const c = await berth().containers.get(VIEW.id);
    expect(c.previews.url(3000)).toBe(`${fake.url}/api/containers/${VIEW.id}/preview/3000/`);
    expect(c.previews.url(3000, 'src/a.ts')).toBe(`${fake.url}/api/containers/${VIEW.id}/preview/3000/src/a.ts`);
    expect(await c.previews.share({ port: 3000, expiresInSeconds: 60 })).toEqual(LINK);
    await c.previews.revoke(LINK.previewId);
    expect(fake.seen.slice(1).map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      `POST /api/containers/${VIEW.id}/previews {"port":3000,"expiresInSeconds":60}`,
      `DELETE /api/containers/${VIEW.id}/previews/${LINK.previewId} `,
    ]);
  });

  test('errors carry their code', async () => {
    fake.replies([200, VIEW], [404, apiError('PREVIEW_PORT_NOT_PUBLISHED', false)]);
    const c = await berth().containers.get(VIEW.id);
    const err = await c.previews.share({ port: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect((err as BerthApiError).code).toBe('PREVIEW_PORT_NOT_PUBLISHED');
  });
});

describe('CLI: berth preview', () => {
  const env = () => ({ BERTH_URL: fake.url, BERTH_API_KEY: 'k-cli-test-0123456789', HOME: '/nonexistent' });

  test('prints the share link alone on stdout; revoke prints the id', async () => {
    fake.replies([200, VIEW], [201, LINK]);
    const r = await berthCli(['preview', VIEW.id, '3000', '--expires', '600'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${LINK.url}\n`);
    expect(JSON.parse(fake.seen[1]!.body)).toEqual({ port: 3000, expiresInSeconds: 600 });
    fake.replies([200, VIEW], [200, { previewId: LINK.previewId, revoked: true }]);
    const revoked = await berthCli(['preview', 'revoke', VIEW.id, LINK.previewId], env());
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`${LINK.previewId}\n`);
  }, 60_000);

  test('usage errors', async () => {
    expect((await berthCli(['preview', VIEW.id], env())).code).toBe(2);
    expect((await berthCli(['preview', VIEW.id, 'abc'], env())).code).toBe(2);
  }, 60_000);
});
