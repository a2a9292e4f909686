import type { SetupPhase, SetupStatus } from '@berth/contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Berth, BerthAbortError, BerthApiError, BerthTimeoutError, isApiError } from '../src/index.js';
import { FakeGateway, VIEW, apiError } from './fake-gateway.js';

// container.setup against a fake gateway speaking the contracts' setup routes (POST then GET
// /api/containers/:id/setup); the real route arrives with the setup work.
let fake: FakeGateway;
let berth: Berth;
beforeAll(async () => {
  fake = await FakeGateway.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
  berth = new Berth({ url: fake.url, apiKey: 'k' });
});

const status = (seq: number, phase: SetupPhase, extra: Partial<SetupStatus> = {}): SetupStatus => ({
  id: VIEW.id,
  seq,
  phase,
  repo: 'acme/app',
  branch: 'main',
  at: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:00.000Z',
  durations: {},
  ...extra,
});

async function handle() {
  fake.replies([200, VIEW]);
  return berth.containers.get(VIEW.id);
}

describe('container.setup', () => {
  test('posts the body, polls until ready, and reports each new status once, in order', async () => {
    const c = await handle();
    fake.replies(
      [202, status(1, 'queued')],
      [200, status(2, 'cloning')],
      [200, status(2, 'cloning')],
      [200, status(3, 'installing')],
      [200, status(5, 'ready', { durations: { cloning: 10, installing: 20 } })],
    );
    const phases: string[] = [];
    const done = await c.setup({ repo: 'acme/app', branch: 'main' }, { pollIntervalMs: 10, onProgress: (s) => phases.push(`${s.seq}:${s.phase}`) });
    expect(done).toMatchObject({ phase: 'ready', durations: { cloning: 10, installing: 20 } });
    expect(phases).toEqual(['1:queued', '2:cloning', '3:installing', '5:ready']);
    expect(fake.seen.slice(1).map((s) => `${s.method} ${s.url}`)).toEqual([
      `POST /api/containers/${VIEW.id}/setup`,
      ...Array(4).fill(`GET /api/containers/${VIEW.id}/setup`),
    ]);
    expect(JSON.parse(fake.seen[1]!.body)).toEqual({ repo: 'acme/app', branch: 'main' });
  });

  test("a failed setup throws a BerthApiError with the setup's code and its last status", async () => {
    const c = await handle();
    const failed = status(3, 'failed', { error: { code: 'REPO_NOT_FOUND', message: 'acme/app not found' }, logTail: 'fatal: not found' });
    fake.replies([202, status(1, 'queued')], [200, failed]);
    const err = await c.setup({ repo: 'acme/app', branch: 'main' }, { pollIntervalMs: 10 }).catch((e: unknown) => e);
    expect(isApiError(err, 'REPO_NOT_FOUND')).toBe(true);
    expect(err).toMatchObject({ code: 'REPO_NOT_FOUND', status: 404, retryable: false, setup: { logTail: 'fatal: not found' } });
  });

  test('a refused start is the API error (e.g. SETUP_IN_PROGRESS); setupStatus reads GET', async () => {
    const c = await handle();
    fake.replies([409, apiError('SETUP_IN_PROGRESS', false)]);
    await expect(c.setup({ repo: 'acme/app', branch: 'main' })).rejects.toMatchObject({ code: 'SETUP_IN_PROGRESS', status: 409 });
    fake.replies([200, status(4, 'starting')]);
    await expect(c.setupStatus()).resolves.toMatchObject({ seq: 4, phase: 'starting' });
    fake.replies([404, apiError('SETUP_NOT_FOUND', false)]);
    await expect(c.setupStatus()).rejects.toBeInstanceOf(BerthApiError);
  });

  test('timeoutMs and signal end the wait while it polls', async () => {
    const c = await handle();
    fake.replies([202, status(1, 'queued')], [200, status(2, 'cloning')]);
    await expect(c.setup({ repo: 'acme/app', branch: 'main' }, { pollIntervalMs: 20, timeoutMs: 200 })).rejects.toBeInstanceOf(BerthTimeoutError);
    fake.replies([202, status(1, 'queued')], [200, status(2, 'cloning')]);
    const ac = new AbortController();
    const seen: number[] = [];
    const run = c.setup(
      { repo: 'acme/app', branch: 'main' },
      {
        pollIntervalMs: 20,
        signal: ac.signal,
        onProgress: (s) => {
          seen.push(s.seq);
          if (s.seq === 2) ac.abort();
        },
      },
    );
    await expect(run).rejects.toBeInstanceOf(BerthAbortError);
    expect(seen).toEqual([1, 2]);
  });
});
