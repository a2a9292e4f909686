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

const CREATED = { ...VIEW, warm: false };

describe('limits at create', () => {
  test('SDK: containers.create sends cpus, memoryMb and diskMb; LIMIT_EXCEEDED comes back with its code', async () => {
    fake.replies([201, CREATED], [400, apiError('LIMIT_EXCEEDED', false)]);
    const berth = new Berth({ url: fake.url, apiKey: 'k' });
    await berth.containers.create({ cpus: 0.5, memoryMb: 1024, diskMb: 2048 });
    expect(JSON.parse(fake.seen[0]!.body)).toEqual({ cpus: 0.5, memoryMb: 1024, diskMb: 2048 });
    const err = await berth.containers.create({ diskMb: 1_000_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthApiError);
    expect((err as BerthApiError).code).toBe('LIMIT_EXCEEDED');
  });

  const env = () => ({ BERTH_URL: fake.url, BERTH_API_KEY: 'k-cli-test-0123456789', HOME: '/nonexistent' });

  test('CLI: berth create --cpus --memory --disk; a bad value is a usage error, nothing sent', async () => {
    fake.replies([201, CREATED]);
    const r = await berthCli(['create', '--cpus', '1.5', '--memory', '2048', '--disk', '4096'], env());
    expect(r.code).toBe(0);
    expect(JSON.parse(fake.seen[0]!.body)).toEqual({ cpus: 1.5, memoryMb: 2048, diskMb: 4096 });
    fake.seen.length = 0;
    const bad = await berthCli(['create', '--disk', '1.5g'], env());
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--disk must be a positive whole number of MiB/);
    expect(fake.seen).toHaveLength(0);
  }, 60_000);
});
