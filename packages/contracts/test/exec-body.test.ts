import { describe, expect, it } from 'vitest';
import { EXEC_MAX_TIMEOUT_MS, ExecBodySchema, ExecRequestSchema, SUBJECTS, parseOrThrow } from '../src/index.js';

const ok = (body: unknown) => ExecBodySchema.safeParse(body).success;
const codeOf = (body: unknown) => {
  try {
    parseOrThrow(ExecBodySchema, body);
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'accepted';
};

describe('ExecBody', () => {
  it('accepts a shell string and an argv array', () => {
    expect(parseOrThrow(ExecBodySchema, { command: 'npm test' })).toEqual({ command: 'npm test' });
    expect(parseOrThrow(ExecBodySchema, { command: ['ls', '-la'], timeout: 5000 })).toEqual({ command: ['ls', '-la'], timeout: 5000 });
  });

  it('refuses NUL in an argv element or the shell string (400 VALIDATION_FAILED, never a run with exitCode null)', () => {
    expect(codeOf({ command: ['echo', 'a\0b'] })).toBe('VALIDATION_FAILED');
    expect(codeOf({ command: ['\0'] })).toBe('VALIDATION_FAILED');
    expect(codeOf({ command: 'echo a\0b' })).toBe('VALIDATION_FAILED');
    expect(codeOf({ command: ['echo', 'a\\0b'] })).toBe('accepted');
  });

  it('bounds the command string: 1 to 64 KiB', () => {
    expect(ok({ command: '' })).toBe(false);
    expect(ok({ command: 'x' })).toBe(true);
    expect(ok({ command: 'x'.repeat(64 * 1024) })).toBe(true);
    expect(ok({ command: 'x'.repeat(64 * 1024 + 1) })).toBe(false);
  });

  it('bounds argv: 1 to 1024 arguments of at most 64 KiB each', () => {
    expect(ok({ command: [] })).toBe(false);
    expect(ok({ command: Array.from({ length: 1024 }, () => 'a') })).toBe(true);
    expect(ok({ command: Array.from({ length: 1025 }, () => 'a') })).toBe(false);
    expect(ok({ command: ['echo', 'x'.repeat(64 * 1024)] })).toBe(true);
    expect(ok({ command: ['echo', 'x'.repeat(64 * 1024 + 1)] })).toBe(false);
    expect(ok({ command: ['echo', 1] })).toBe(false);
  });

  it(`bounds timeout: an integer from 1 to ${EXEC_MAX_TIMEOUT_MS} ms`, () => {
    expect(ok({ command: 'true', timeout: 0 })).toBe(false);
    expect(ok({ command: 'true', timeout: 1 })).toBe(true);
    expect(ok({ command: 'true', timeout: EXEC_MAX_TIMEOUT_MS })).toBe(true);
    expect(ok({ command: 'true', timeout: EXEC_MAX_TIMEOUT_MS + 1 })).toBe(false);
    expect(ok({ command: 'true', timeout: 1.5 })).toBe(false);
    expect(ok({ command: 'true', timeout: -1 })).toBe(false);
    expect(ok({ command: 'true', timeout: '1000' })).toBe(false);
  });

  it('requires a command and refuses unknown fields', () => {
    expect(codeOf({})).toBe('VALIDATION_FAILED');
    expect(codeOf({ command: 'true', shell: 'bash' })).toBe('UNKNOWN_FIELD');
    expect(codeOf({ command: 'true', user: 'root' })).toBe('FORBIDDEN_OPTION');
    expect(codeOf({ command: 42 })).toBe('VALIDATION_FAILED');
  });

  it('the NATS exec request has the same command and timeout bounds', () => {
    expect(SUBJECTS.containerExec.request).toBe(ExecRequestSchema);
    const base = { id: 'ws_0123456789abcdef', owner: 'alice', command: 'true' };
    expect(ExecRequestSchema.safeParse({ ...base, timeoutMs: EXEC_MAX_TIMEOUT_MS }).success).toBe(true);
    expect(ExecRequestSchema.safeParse({ ...base, timeoutMs: EXEC_MAX_TIMEOUT_MS + 1 }).success).toBe(false);
    expect(ExecRequestSchema.safeParse({ ...base, timeoutMs: 0 }).success).toBe(false);
    expect(ExecRequestSchema.safeParse({ ...base, command: '', timeoutMs: 1000 }).success).toBe(false);
  });
});
