import { describe, expect, it } from 'vitest';
import { BerthError, ERROR_CODES, ErrorBodySchema, httpStatusOf, isErrorBody, type ErrorBody, type ErrorCode } from '../src/index.js';

/** The HTTP contract, written out so that changing a status is a deliberate, visible act. */
const EXPECTED_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNKNOWN_FIELD: 400,
  IDLE_TIMEOUT_TOO_LONG: 400,
  FORBIDDEN_OPTION: 400,
  INVALID_NAME: 400,
  INVALID_JSON: 400,
  IMAGE_NOT_ALLOWED: 400,
  IMAGE_NOT_FOUND: 400,
  VOLUME_NOT_ALLOWED: 403,
  CALLBACK_URL_REFUSED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ORIGIN_NOT_ALLOWED: 403,
  CONTAINER_NOT_FOUND: 404,
  POOL_NOT_FOUND: 404,
  SETUP_NOT_FOUND: 404,
  VOLUME_NOT_FOUND: 404,
  REPO_NOT_FOUND: 404,
  REPO_AUTH_FAILED: 422,
  REPO_HOST_NOT_ALLOWED: 422,
  BRANCH_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NAME_CONFLICT: 409,
  CONTAINER_NOT_RUNNING: 409,
  CONTAINER_DELETED: 409,
  LLM_KEYS_DISABLED: 409,
  SETUP_IN_PROGRESS: 409,
  MAIN_IMAGE_NOT_FOUND: 409,
  VOLUME_IN_USE: 409,
  VOLUME_LIMIT_REACHED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  CLONE_FAILED: 422,
  INSTALL_FAILED: 422,
  START_FAILED: 422,
  CONTAINER_EXITED: 422,
  PHASE_TIMEOUT: 422,
  SETUP_INTERRUPTED: 503,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UPSTREAM_UNAVAILABLE: 502,
  CAPACITY_EXHAUSTED: 503,
  PORTS_EXHAUSTED: 503,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  FILE_NOT_FOUND: 404,
  NOT_A_DIRECTORY: 409,
  IS_A_DIRECTORY: 409,
  FILE_EXISTS: 409,
  DIRECTORY_NOT_EMPTY: 409,
  FILE_PERMISSION_DENIED: 403,
  FILE_TOO_LARGE: 413,
  INVALID_PATH: 400,
  RANGE_NOT_SATISFIABLE: 416,
  NO_SPACE: 409,
  FILE_OPERATION_FAILED: 422,
  AGENT_UPGRADE_REQUIRED: 409,
  AGENT_UNAVAILABLE: 503,
  // w3-preview
  PREVIEW_PORT_NOT_PUBLISHED: 404,
  PREVIEW_NOT_FOUND: 404,
  PREVIEW_UPSTREAM_UNREACHABLE: 502,
  CONTAINER_PAUSED: 409,
  // w3-hosts
  HOST_UNAVAILABLE: 503,
  HOST_NOT_FOUND: 404,
  // w4-limits
  LIMIT_EXCEEDED: 400,
  LIMIT_UNSUPPORTED: 400,
  TEMPLATE_BASE_NOT_ALLOWED: 400,
  TEMPLATE_INSTRUCTION_NOT_ALLOWED: 400,
  TEMPLATE_BUILD_FAILED: 422,
  TEMPLATE_NOT_FOUND: 404,
  PATH_OUTSIDE_WORKSPACE: 400,
  WATCH_LIMIT_REACHED: 409,
  WATCH_TOO_LARGE: 422,
  TEMPLATE_LIMIT_REACHED: 409,
  TEMPLATE_BUILD_IN_PROGRESS: 409,
  TEMPLATE_BUILD_TIMEOUT: 422,
};

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('error codes', () => {
  it('every code has an expected status (and no code is missing from this test)', () => {
    expect(codes.sort()).toEqual((Object.keys(EXPECTED_STATUS) as ErrorCode[]).sort());
  });

  it.each(codes)('httpStatusOf(%s)', (code) => {
    expect(httpStatusOf(code)).toBe(EXPECTED_STATUS[code]);
  });

  it.each(codes)('%s is retryable exactly when it is a 429 or a 5xx', (code) => {
    const status = EXPECTED_STATUS[code];
    expect(new BerthError(code, 'x').retryable).toBe(status === 429 || status >= 500);
  });
});

describe('BerthError', () => {
  it('is an Error with name, code and cause', () => {
    const cause = new Error('root');
    const err = new BerthError('POOL_NOT_FOUND', 'no pool "x"', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('BerthError');
    expect(err.code).toBe('POOL_NOT_FOUND');
    expect(err.message).toBe('no pool "x"');
    expect(err.cause).toBe(cause);
    expect(err.retryAfterSeconds).toBeUndefined();
  });

  it('toBody has only code, message, retryable when nothing else was given', () => {
    expect(new BerthError('TIMEOUT', 'slow').toBody()).toEqual({ error: { code: 'TIMEOUT', message: 'slow', retryable: true } });
  });

  it('toBody never carries the cause', () => {
    const body = new BerthError('INTERNAL', 'internal error', { cause: new Error('password=hunter2') }).toBody();
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it.each(codes)('toBody/fromBody round-trips %s', (code) => {
    const original = new BerthError(code, `message for ${code}`);
    const body = original.toBody();
    expect(ErrorBodySchema.parse(body)).toEqual(body);
    const back = BerthError.fromBody(body);
    expect(back).toBeInstanceOf(BerthError);
    expect(back.code).toBe(code);
    expect(back.message).toBe(original.message);
    expect(back.retryable).toBe(original.retryable);
    expect(back.toBody()).toEqual(body);
  });

  it('round-trips retryAfterSeconds and details, also through JSON', () => {
    const original = new BerthError('CAPACITY_EXHAUSTED', 'pool empty', {
      retryAfterSeconds: 2,
      details: [{ path: 'pool', message: 'no warm container' }],
    });
    const wire = JSON.parse(JSON.stringify(original.toBody())) as unknown;
    expect(isErrorBody(wire)).toBe(true);
    const back = BerthError.fromBody(wire as ErrorBody);
    expect(back.retryAfterSeconds).toBe(2);
    expect(back.details).toEqual([{ path: 'pool', message: 'no warm container' }]);
    expect(back.toBody()).toEqual(original.toBody());
  });

  it('takes retryable from the code table, not from the wire', () => {
    const back = BerthError.fromBody({ error: { code: 'TIMEOUT', message: 'x', retryable: false } });
    expect(back.retryable).toBe(true);
  });
});

describe('isErrorBody', () => {
  it.each([
    ['an unknown code', { error: { code: 'NOPE', message: 'x', retryable: false } }],
    ['a missing message', { error: { code: 'INTERNAL', retryable: true } }],
    ['a zero retryAfterSeconds', { error: { code: 'RATE_LIMITED', message: 'x', retryable: true, retryAfterSeconds: 0 } }],
    ['a reply that is not an error', { pools: [] }],
    ['null', null],
  ])('refuses %s', (_label, value) => {
    expect(isErrorBody(value)).toBe(false);
  });
});
