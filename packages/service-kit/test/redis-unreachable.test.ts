import { createServer } from 'node:net';
import { expect, test } from 'vitest';
import { createLogger, createRedis, isRedisUnreachable } from '../src/index.js';

test('a command to a Redis that is down is "unreachable"; an error Redis answers is not', async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as { port: number };
      s.close(() => resolve(p));
    });
  });
  const redis = createRedis({ url: `redis://127.0.0.1:${port}`, name: 't', logger: createLogger('t', 'silent'), commandTimeoutMs: 300 });
  try {
    const err = await redis.get('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(isRedisUnreachable(err)).toBe(true);
  } finally {
    redis.disconnect();
  }
  expect(isRedisUnreachable(new Error("ERR wrong number of arguments for 'get' command"))).toBe(false);
  expect(isRedisUnreachable('Connection is closed.')).toBe(false);
});
