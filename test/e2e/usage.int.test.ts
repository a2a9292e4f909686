import { UsageSchema, type Usage } from '@berth/contracts';
import { mintKey } from '@berth/gateway';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Berth } from '../../packages/sdk/src/index.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// Usage on the real stack: Docker's stats of a workspace running a 50 MB memory hog, owner-scoped.
const alice = mintKey({ name: 'alice', owner: 'alice', scopes: ['read', 'write', 'exec'] });
const bob = mintKey({ name: 'bob', owner: 'bob', scopes: ['read', 'write', 'exec'] });
const MEMORY_MB = 256;
const HOG = 'a=Buffer.alloc(50e6,1);setInterval(()=>{},1e3)';

let stack: LocalStack;
let id = '';

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: MEMORY_MB, pids: 64 }]),
      MAX_CONTAINERS: '4',
    },
    'warn',
    { keys: [alice.entry, bob.entry] },
  );
}, 120_000);

afterAll(async () => {
  if (id) await fetch(`${stack.url}/api/containers/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice.key}` } }).catch(() => undefined);
  await stack?.stop();
});

async function usage(key: string, cid: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}/api/containers/${cid}/usage`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('GET /api/containers/:id/usage', () => {
  test('a workspace holding 50 MB shows it, under its limit; another owner gets 404; the SDK returns the same shape', async () => {
    const sdk = new Berth({ url: stack.url, apiKey: alice.key });
    const container = await sdk.containers.create();
    id = container.id;

    const idle = UsageSchema.parse((await usage(alice.key, id)).json);
    expect(idle.id).toBe(id);
    expect(idle.memoryLimitBytes).toBe(MEMORY_MB * 1024 * 1024);

    // Detached, so the exec answers while the hog keeps its memory.
    const started = await container.exec(`setsid node -e '${HOG}' >/dev/null 2>&1 < /dev/null &`, { timeoutMs: 10_000 });
    expect(started.exitCode).toBe(0);

    let sample: Usage = idle;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await usage(alice.key, id);
      expect(r.status).toBe(200);
      sample = UsageSchema.parse(r.json);
      if (sample.memoryBytes > 50e6) break;
    }
    expect(sample.memoryBytes).toBeGreaterThan(50e6);
    expect(sample.memoryBytes).toBeGreaterThan(idle.memoryBytes);
    expect(sample.memoryBytes).toBeLessThan(sample.memoryLimitBytes);
    expect(sample.pids).toBeGreaterThanOrEqual(1);
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(Date.parse(sample.at)).toBeGreaterThan(Date.now() - 60_000);

    const foreign = await usage(bob.key, id);
    expect(foreign.status).toBe(404);
    expect(foreign.json).toMatchObject({ error: { code: 'CONTAINER_NOT_FOUND' } });

    const viaSdk = await container.usage({ timeoutMs: 15_000 });
    expect(UsageSchema.strict().parse(viaSdk)).toEqual(viaSdk);
    expect(Object.keys(viaSdk).sort()).toEqual(Object.keys(sample).sort());
    expect(viaSdk.id).toBe(id);
    expect(viaSdk.memoryBytes).toBeGreaterThan(50e6);
    // Bob cannot see it through the SDK either.
    await expect(new Berth({ url: stack.url, apiKey: bob.key }).containers.get(id)).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
  }, 90_000);
});
