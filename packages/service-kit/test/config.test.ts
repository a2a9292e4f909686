import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonConfigShape, envBool, envInt, envJson, loadConfig, loadConfigOrExit } from '../src/index.js';

const schema = z.object({
  PORT: envInt(8080, 1, 65_535),
  DEBUG: envBool(false),
  API_TOKEN: z.string().min(32),
  POOLS: envJson(z.array(z.strictObject({ name: z.string().regex(/^[a-z]+$/) }))).optional(),
});

const TOKEN = 'tok_' + 'a'.repeat(40);

/** The ConfigError loadConfig throws for `env`, or a test failure if it accepts it. */
function configError(env: Record<string, string | undefined>, s: z.ZodObject = schema): ConfigError {
  try {
    loadConfig(s, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('parses and applies defaults, ignoring variables the schema does not name', () => {
    expect(loadConfig(schema, { API_TOKEN: TOKEN, HOME: '/root', PATH: '/bin' })).toEqual({ PORT: 8080, DEBUG: false, API_TOKEN: TOKEN });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(schema, { API_TOKEN: TOKEN, PORT: '', DEBUG: '' })).toMatchObject({ PORT: 8080, DEBUG: false });
  });

  it('reads process.env by default', () => {
    const key = 'BERTH_TEST_ONLY_VALUE';
    process.env[key] = '7';
    try {
      expect(loadConfig(z.object({ [key]: envInt(1) }))).toEqual({ [key]: 7 });
    } finally {
      delete process.env[key];
    }
  });

  it('names the bad variable', () => {
    const err = configError({ API_TOKEN: TOKEN, PORT: '70000' });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toMatch(/^invalid configuration:\n {2}PORT: /);
  });

  it('names a missing required variable', () => {
    expect(configError({}).message).toContain('API_TOKEN:');
  });

  it('lists every bad variable, one line each', () => {
    const lines = configError({ PORT: 'eighty', DEBUG: 'perhaps' }).message.split('\n').slice(1);
    expect(lines.map((l) => l.trim().split(':')[0]).sort()).toEqual(['API_TOKEN', 'DEBUG', 'PORT']);
  });

  it.each([
    ['a too-short secret', { API_TOKEN: 'sk-live-hunter2' }, 'sk-live-hunter2'],
    ['a non-numeric int', { API_TOKEN: TOKEN, PORT: 'port-hunter2' }, 'port-hunter2'],
    ['an out-of-range int', { API_TOKEN: TOKEN, PORT: '987654321' }, '987654321'],
    ['a bad boolean', { API_TOKEN: TOKEN, DEBUG: 'hunter2-bool' }, 'hunter2-bool'],
    ['invalid JSON', { API_TOKEN: TOKEN, POOLS: '[{hunter2-json' }, 'hunter2-json'],
    ['JSON that breaks its schema', { API_TOKEN: TOKEN, POOLS: '[{"name":"HUNTER2x"}]' }, 'HUNTER2x'],
  ])('never echoes the value: %s', (_label, env, secret) => {
    const err = configError(env);
    expect(err.message).not.toContain(secret);
    expect(String(err.stack)).not.toContain(secret);
  });

  it('a bad enum value is not echoed either', () => {
    const err = configError({ LOG_LEVEL: 'loud-hunter2' }, z.object(commonConfigShape));
    expect(err.message).toContain('LOG_LEVEL:');
    expect(err.message).not.toContain('loud-hunter2');
  });
});

describe('envInt', () => {
  const s = z.object({ N: envInt(5, 1, 100) });
  it.each([
    [undefined, 5],
    ['1', 1],
    ['42', 42],
    ['100', 100],
  ])('%j → %j', (value, expected) => {
    expect(loadConfig(s, { N: value })).toEqual({ N: expected });
  });

  it.each(['0', '101', '4.5', 'abc', '-3', ' ', '1e2', '0x10', '12abc', '+5'])('refuses %j', (value) => {
    expect(configError({ N: value }, s).message).toContain('N:');
  });

  it('does not read a blank value as 0 when 0 is allowed', () => {
    const withZero = z.object({ PORT: envInt(9101, 0, 65_535) });
    expect(loadConfig(withZero, { PORT: '0' })).toEqual({ PORT: 0 });
    expect(configError({ PORT: ' ' }, withZero).message).toContain('PORT: must be a whole number');
  });

  it('allows negative values when min allows them', () => {
    expect(loadConfig(z.object({ N: envInt(0, -10, 10) }), { N: '-3' })).toEqual({ N: -3 });
  });
});

describe('envBool', () => {
  const s = z.object({ B: envBool(true) });
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
    [undefined, true],
  ])('%j → %j', (value, expected) => {
    expect(loadConfig(s, { B: value })).toEqual({ B: expected });
  });

  it('defaults to false when asked', () => {
    expect(loadConfig(z.object({ B: envBool(false) }), {})).toEqual({ B: false });
  });

  it.each(['maybe', 'on', '2'])('refuses %j', (value) => {
    expect(configError({ B: value }, s).message).toContain('B:');
  });
});

describe('envJson', () => {
  const s = z.object({ J: envJson(z.array(z.number().int()).min(1)) });
  it('parses JSON and validates it with the schema', () => {
    expect(loadConfig(s, { J: '[1, 2, 3]' })).toEqual({ J: [1, 2, 3] });
  });

  it('says when the value is not JSON', () => {
    expect(configError({ J: '[1, 2' }, s).message).toContain('J: is not valid JSON');
  });

  it('refuses JSON that breaks the schema', () => {
    expect(configError({ J: '["a"]' }, s).message).toContain('J:');
    expect(configError({ J: '[]' }, s).message).toContain('J:');
  });

  it('can have a default', () => {
    expect(loadConfig(z.object({ J: envJson(z.array(z.number())).default([7]) }), {})).toEqual({ J: [7] });
  });
});

describe('commonConfigShape', () => {
  const common = z.object(commonConfigShape);
  it('has loopback defaults for local runs', () => {
    expect(loadConfig(common, {})).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'info',
      BERTH_HOST_ID: 'local',
      SHUTDOWN_TIMEOUT_MS: 10_000,
      JETSTREAM_REPLICAS: 1,
    });
  });

  it('bounds SHUTDOWN_TIMEOUT_MS and checks BERTH_HOST_ID', () => {
    expect(configError({ SHUTDOWN_TIMEOUT_MS: '50' }, common).message).toContain('SHUTDOWN_TIMEOUT_MS:');
    expect(configError({ BERTH_HOST_ID: 'Host_1' }, common).message).toContain('BERTH_HOST_ID:');
  });
});

describe('loadConfigOrExit', () => {
  it('prints the ConfigError message without a stack and exits 1; rethrows anything else', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const print = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      loadConfigOrExit('svc', () => loadConfig(schema, { API_TOKEN: 'short' }));
      expect(exit).toHaveBeenCalledWith(1);
      const printed = String(print.mock.calls[0]?.[0]);
      expect(printed).toMatch(/^svc: invalid configuration:\n {2}API_TOKEN:/);
      expect(printed).not.toContain('    at ');
      expect(() =>
        loadConfigOrExit('svc', () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(loadConfigOrExit('svc', () => 42)).toBe(42);
    } finally {
      exit.mockRestore();
      print.mockRestore();
    }
  });
});

describe('settings from files and DOCKER_HOST', () => {
  const schema = z.object({ SECRET: z.string().min(8), DOCKER_SOCKET: z.string().default('/var/run/docker.sock') });
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 'canary-secret-value\n');

  it('reads NAME_FILE without its trailing newline', () => {
    expect(loadConfig(schema, { SECRET_FILE: secretFile }).SECRET).toBe('canary-secret-value');
  });

  it('refuses NAME and NAME_FILE together, and an unreadable file, naming the setting but never the value', () => {
    expect(() => loadConfig(schema, { SECRET: 'other-secret-1', SECRET_FILE: secretFile })).toThrow(/SECRET: set SECRET or SECRET_FILE, not both/);
    const missing = (): unknown => loadConfig(schema, { SECRET_FILE: join(dir, 'absent') });
    expect(missing).toThrow(ConfigError);
    expect(missing).toThrow(/SECRET_FILE: cannot read .*absent \(ENOENT\)/);
    try {
      loadConfig(schema, { SECRET: 'other-secret-1', SECRET_FILE: secretFile });
    } catch (err) {
      expect(String(err)).not.toContain('canary-secret-value');
      expect(String(err)).not.toContain('other-secret-1');
    }
  });

  it('takes DOCKER_HOST=unix:///path as DOCKER_SOCKET, refuses a remote DOCKER_HOST, and DOCKER_SOCKET wins', () => {
    expect(loadConfig(schema, { SECRET: 'x'.repeat(8), DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).DOCKER_SOCKET).toBe('/run/user/1000/docker.sock');
    expect(loadConfig(schema, { SECRET: 'x'.repeat(8), DOCKER_HOST: 'unix:///a.sock', DOCKER_SOCKET: '/b.sock' }).DOCKER_SOCKET).toBe('/b.sock');
    expect(() => loadConfig(schema, { SECRET: 'x'.repeat(8), DOCKER_HOST: 'tcp://10.0.0.1:2375' })).toThrow(/DOCKER_HOST: only a local unix/);
    expect(loadConfig(z.object({ A: z.string().default('a') }), { DOCKER_HOST: 'tcp://x:1' }).A).toBe('a');
  });
});
