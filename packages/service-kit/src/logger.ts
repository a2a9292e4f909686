import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactUrl } from './redact-url.js';
import { traceIdOf } from './tracing.js';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at any of the first three levels. */
const SECRET_KEYS = [
  'authorization',
  'token',
  'apiToken',
  'accessToken',
  'githubToken',
  'secret',
  'callbackSecret',
  'password',
  'pass',
  'apiKey',
  'key',
  'cookie',
  'BERTH_API_TOKEN',
  'NATS_PASSWORD',
  'envVars',
  'LLM_OPENAI_API_KEY',
  'LLM_ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'x-api-key',
  'llmKey',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
]);

/** The request fields fastify logs (its own `req` serializer's), with the URL's credentials redacted. */
interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
  socket?: { remotePort?: number };
}

const redactedUrl = (url: unknown): unknown => (typeof url === 'string' ? redactUrl(url) : url);

/**
 * Fastify's request serializer with the URL's credentials redacted: give it to the logger a fastify
 * instance uses (`logger.child({}, { serializers: { req: requestSerializer } })`); fastify takes
 * a logger instance's serializers over its own.
 */
export function requestSerializer(req: LoggedRequest) {
  return {
    method: req.method,
    url: redactedUrl(req.url),
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function createLogger(service: string, level: LoggerOptions['level'] = 'info', destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // A URL logged under `url` never carries a `?token=` or `?ticket=`.
    serializers: { url: redactedUrl },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Lines written while a request is handled carry its trace id (the active span's).
    mixin: () => {
      const traceId = traceIdOf();
      return traceId ? { trace_id: traceId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
