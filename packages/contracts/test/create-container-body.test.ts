import { describe, expect, it } from 'vitest';
import { BerthError, CreateContainerBodySchema, FORBIDDEN_FIELDS, parseOrThrow, type ErrorCode } from '../src/index.js';

/** Parses a body the way the gateway does and returns the refusal (or fails the test if accepted). */
function refusal(body: unknown): BerthError {
  try {
    parseOrThrow(CreateContainerBodySchema, body, 'body');
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
}

const codeOf = (body: unknown): ErrorCode => refusal(body).code;

describe('CreateContainerBody', () => {
  it('accepts a complete valid body and returns it unchanged', () => {
    const body = { name: 'my-app_1.dev', image: 'berth/workspace:latest', pool: 'default', ports: [3000, 5173], volumeName: 'cache-vol' };
    expect(parseOrThrow(CreateContainerBodySchema, body)).toEqual(body);
  });

  it('accepts an empty body (every field is optional)', () => {
    expect(parseOrThrow(CreateContainerBodySchema, {})).toEqual({});
  });

  it.each(['berth/workspace', 'node:22', 'ghcr.io/owner/repo:v1.2.3', 'a-b_c.d/e'])('accepts image %s', (image) => {
    expect(parseOrThrow(CreateContainerBodySchema, { image })).toEqual({ image });
  });

  describe('unknown fields', () => {
    it('refuses an unknown field with UNKNOWN_FIELD, naming it', () => {
      const err = refusal({ name: 'ok-name', colour: 'blue' });
      expect(err.code).toBe('UNKNOWN_FIELD');
      expect(err.details).toContainEqual({ path: 'colour', message: 'unknown field' });
      expect(err.message).toContain('colour');
    });

    it('does not mistake an unknown field for a forbidden one', () => {
      expect(codeOf({ env: { A: '1' } })).toBe('UNKNOWN_FIELD');
    });
  });

  describe('forbidden options', () => {
    it.each(['privileged', 'binds', 'capAdd'])('refuses %s with FORBIDDEN_OPTION', (field) => {
      const err = refusal({ [field]: field === 'privileged' ? true : ['x'] });
      expect(err.code).toBe('FORBIDDEN_OPTION');
      expect(err.details).toContainEqual({ path: field, message: 'option not allowed' });
    });

    it.each([...FORBIDDEN_FIELDS])('refuses %s with FORBIDDEN_OPTION', (field) => {
      expect(codeOf({ [field]: 'anything' })).toBe('FORBIDDEN_OPTION');
    });

    it('FORBIDDEN_OPTION wins over unknown fields, whatever their order', () => {
      expect(codeOf({ aaa: 1, privileged: true, zzz: 2 })).toBe('FORBIDDEN_OPTION');
      expect(codeOf({ privileged: true, colour: 'red' })).toBe('FORBIDDEN_OPTION');
      expect(codeOf({ colour: 'red', binds: ['/:/host'] })).toBe('FORBIDDEN_OPTION');
    });

    it('FORBIDDEN_OPTION wins over bad names and wrong types too', () => {
      expect(codeOf({ capAdd: ['SYS_ADMIN'], volumeName: '/etc', ports: 'x' })).toBe('FORBIDDEN_OPTION');
    });

    it('lists every offending field in details', () => {
      const err = refusal({ privileged: true, binds: ['/:/host'], colour: 'red' });
      expect(err.details?.map((d) => d.path).sort()).toEqual(['binds', 'colour', 'privileged']);
    });
  });

  describe('names', () => {
    it.each(['/etc', '../x', 'a:b', '/var/run/docker.sock', './data', '.hidden', 'a/b', 'x', '', 'v'.repeat(64), 'has space'])(
      'refuses volumeName %j with INVALID_NAME',
      (volumeName) => {
        const err = refusal({ volumeName });
        expect(err.code).toBe('INVALID_NAME');
        expect(err.details?.[0]?.path).toBe('volumeName');
      },
    );

    it.each(['/etc', '../x', 'a:b', '-leading-dash', 'x', 'n'.repeat(64)])('refuses container name %j with INVALID_NAME', (name) => {
      expect(codeOf({ name })).toBe('INVALID_NAME');
    });

    it.each(['Default', 'my_pool', '-x', 'p'.repeat(41)])('refuses pool %j with INVALID_NAME', (pool) => {
      expect(codeOf({ pool })).toBe('INVALID_NAME');
    });

    it.each(['Berth/Workspace', 'localhost:5000/x', 'berth/ws@sha256:abc', 'berth//ws', 'x:'])('refuses image %j with INVALID_NAME', (image) => {
      expect(codeOf({ image })).toBe('INVALID_NAME');
    });

    it.each(['ab', 'A1', 'vol.1', 'v'.repeat(63)])('accepts volumeName %j', (volumeName) => {
      expect(parseOrThrow(CreateContainerBodySchema, { volumeName })).toEqual({ volumeName });
    });
  });

  describe('wrong types and shapes', () => {
    it.each([
      ['name as a number', { name: 42 }],
      ['volumeName as an object', { volumeName: { path: '/etc' } }],
      ['ports as a string', { ports: '3000' }],
      ['a port as a string', { ports: ['3000'] }],
      ['a fractional port', { ports: [30.5] }],
      ['port 0', { ports: [0] }],
      ['port 65536', { ports: [65536] }],
      ['no ports', { ports: [] }],
      ['nine ports', { ports: [1, 2, 3, 4, 5, 6, 7, 8, 9] }],
    ])('refuses %s with VALIDATION_FAILED', (_label, body) => {
      expect(codeOf(body)).toBe('VALIDATION_FAILED');
    });

    it.each([null, [], 'body', 7, undefined])('refuses a non-object body %j with VALIDATION_FAILED', (body) => {
      expect(codeOf(body)).toBe('VALIDATION_FAILED');
    });

    it('is a 400, not retryable, and says what it was validating', () => {
      const err = refusal({ name: 42 });
      expect(err.toBody().error).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(err.message).toMatch(/^invalid body: name: /);
    });
  });
});
