import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

/** A logger writing JSON lines into an array. */
function capture(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const logger = createLogger('test-service', level, {
    write: (line: string) => {
      lines.push(line);
    },
  });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records };
}

const SECRET = 's3cr3t-value-that-must-not-leak';
const KEYS = ['authorization', 'token', 'secret', 'githubToken', 'apiKey', 'password', 'callbackSecret', 'cookie', 'NATS_PASSWORD'];

describe('createLogger', () => {
  it('writes JSON lines with service, level, time and message', () => {
    const { logger, records } = capture();
    logger.info({ pool: 'default' }, 'hello');
    const [rec] = records();
    expect(rec).toMatchObject({ service: 'test-service', name: 'test-service', level: 30, pool: 'default', msg: 'hello' });
    expect(typeof rec?.time).toBe('string');
    expect(Number.isNaN(Date.parse(String(rec?.time)))).toBe(false);
  });

  it('respects the level', () => {
    const { logger, lines } = capture('info');
    logger.debug('hidden');
    expect(lines).toHaveLength(0);
  });

  it.each(KEYS)('redacts %s at the top level', (key) => {
    const { logger, lines, records } = capture();
    logger.info({ [key]: SECRET, keep: 'visible' }, 'msg');
    expect(lines.join('')).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({ [key]: '[redacted]', keep: 'visible' });
  });

  it.each(KEYS)('redacts %s one and two levels down', (key) => {
    const { logger, lines, records } = capture();
    logger.info({ req: { [key]: SECRET, method: 'POST' }, cfg: { github: { [key]: SECRET, org: 'acme' } } }, 'msg');
    expect(lines.join('')).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({
      req: { [key]: '[redacted]', method: 'POST' },
      cfg: { github: { [key]: '[redacted]', org: 'acme' } },
    });
  });

  it('redacts request headers and secrets in child logger bindings', () => {
    const { logger, lines, records } = capture();
    logger
      .child({ apiKey: SECRET })
      .info({ req: { headers: { authorization: `Bearer ${SECRET}`, cookie: SECRET, 'sec-websocket-protocol': SECRET, host: 'x' } } }, 'req');
    expect(lines.join('')).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({ apiKey: '[redacted]', req: { headers: { authorization: '[redacted]', host: 'x' } } });
  });

  it('does not mangle objects without secrets', () => {
    const { logger, records } = capture();
    logger.info({ container: { id: 'ws_0123456789abcdef', ports: { 3000: 40001 } } }, 'ok');
    expect(records()[0]).toMatchObject({ container: { id: 'ws_0123456789abcdef', ports: { 3000: 40001 } } });
  });
});
