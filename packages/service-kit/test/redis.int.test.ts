import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createRedis, isRedisUnreachable, Redis } from '../src/index.js';

const logger = createLogger('redis-test', 'silent');
const COMMAND_TIMEOUT_MS = 300;

/** Time a promise takes to settle, and how it settled. */
async function timed(p: Promise<unknown>): Promise<{ ms: number; error: Error | undefined }> {
  const started = Date.now();
  const error = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  return { ms: Date.now() - started, error };
}

describe('createRedis against a real redis-server', () => {
  let server: ServerProcess & { url: string };
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = createRedis({ url: server.url, name: 'berth-test', logger, commandTimeoutMs: COMMAND_TIMEOUT_MS });
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  it('runs commands and names its connection', async () => {
    await expect(redis.set('berth:test:k', 'v1')).resolves.toBe('OK');
    await expect(redis.get('berth:test:k')).resolves.toBe('v1');
    expect(String(await redis.client('LIST'))).toContain('name=berth-test');
  });

  it('fails commands within a bounded time while the server is down, and works again after a restart', async () => {
    await server.stop('SIGKILL');

    const { ms, error } = await timed(redis.get('berth:test:k'));
    expect(error).toBeInstanceOf(Error);
    expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1_500);
    // Still bounded for a command issued while ioredis is already reconnecting.
    const second = await timed(redis.set('berth:test:k', 'v2'));
    expect(second.error).toBeInstanceOf(Error);
    expect(second.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1_500);

    const ready = once(redis, 'ready');
    await server.restart();
    await ready; // ioredis reconnects on its own (retryStrategy caps the backoff at 2 s)

    // appendonly + appendfsync always: the value written before the crash survived it.
    await expect(redis.get('berth:test:k')).resolves.toBe('v1');
    await expect(redis.incr('berth:test:n')).resolves.toBe(1);
  });

  it('a transaction cut by a dropped connection fails as "unreachable" (a retryable 503, not INTERNAL)', async () => {
    const admin = new Redis(server.url);
    try {
      // Writes wait while paused, so the transaction is still in flight when its connection is killed.
      await admin.client('PAUSE', 3000, 'WRITE');
      const cut = redis
        .multi()
        .set('berth:test:t', '1')
        .incr('berth:test:n')
        .exec()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await new Promise((r) => setTimeout(r, 200));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const err = await cut;
      expect(err).toBeInstanceOf(Error);
      expect(isRedisUnreachable(err), String(err)).toBe(true);
    } finally {
      await admin.client('UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });
});

describe('createRedis against a server that accepts connections but never answers', () => {
  let hung: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    hung = createServer((s) => {
      sockets.push(s);
    });
    hung.listen(0, '127.0.0.1');
    await once(hung, 'listening');
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => hung.close(resolve));
  });

  it('fails a command after commandTimeoutMs instead of hanging', async () => {
    const address = hung.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const redis = createRedis({ url: `redis://127.0.0.1:${port}`, name: 'berth-test-hung', logger, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    try {
      const { ms, error } = await timed(redis.get('anything'));
      expect(error?.message).toMatch(/timed out/i);
      expect(ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1_000);
    } finally {
      redis.disconnect();
    }
  });
});
