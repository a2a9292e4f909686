import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  name: string;
  logger: Logger;
  commandTimeoutMs?: number;
  /**
   * Whether commands in flight when the connection dropped are sent again after reconnecting
   * (default). false: they time out instead (`commandTimeoutMs`), so nothing runs on a restarted
   * Redis before the caller has seen the reconnection (pool-manager puts lost claims back first).
   */
  resendUnfulfilled?: boolean;
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
    autoResendUnfulfilledCommands: opts.resendUnfulfilled ?? true,
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

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);
// "Command aborted due to connection close": a transaction or pipeline cut by a dropped connection (ioredis 6).
const UNREACHABLE_MESSAGES =
  /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries per request limit|Command aborted due to connection close|Socket timeout)/;

/**
 * Whether `err` says Redis could not be reached (down, restarting, too slow), as opposed to a
 * command it answered with an error: a condition that passes, so callers hear a retryable 503.
 */
export function isRedisUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return err.name === 'MaxRetriesPerRequestError' || (code !== undefined && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGES.test(err.message);
}
