import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  name: string;
  logger: Logger;
  commandTimeoutMs?: number;
}

/**
 * ioredis with bounded waits: a command fails after `commandTimeoutMs` and is retried at most
 * twice across reconnects, so a dead Redis turns into a fast error, not a hung request.
 */
export function createRedis(opts: RedisOptions): Redis {
  const redis = new Redis(opts.url, {
    connectionName: opts.name,
    commandTimeout: opts.commandTimeoutMs ?? 2_000,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) opts.logger.warn({ err: err.message }, 'redis error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) opts.logger.info('redis reconnected');
    down = false;
  });
  return redis;
}
