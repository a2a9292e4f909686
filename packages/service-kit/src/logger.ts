import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentTrace } from './trace.js';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at any of the first three levels. */
const SECRET_KEYS = [
  'authorization', 'token', 'apiToken', 'accessToken', 'githubToken', 'secret', 'callbackSecret',
  'password', 'pass', 'apiKey', 'key', 'cookie', 'BERTH_API_TOKEN', 'NATS_PASSWORD', 'envVars',
  'LLM_OPENAI_API_KEY', 'LLM_ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'x-api-key', 'llmKey',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
]);

export function createLogger(service: string, level: LoggerOptions['level'] = 'info', destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Lines written while a request is handled carry its trace id (see withTrace).
    mixin: () => {
      const trace = currentTrace();
      return trace ? { trace_id: trace.traceId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
