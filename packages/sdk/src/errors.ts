import { BerthError, ERROR_CODES, httpStatusOf, type ErrorBody, type ErrorCode } from '@berth/contracts';

/** Where a failed call went, for messages; never carries headers or the API key. */
export interface CallSite {
  method: string;
  path: string;
}

const where = (site: CallSite): string => `${site.method} ${site.path}`;

/**
 * berth answered with an error body. `code` is one of the contracts' ERROR_CODES; `retryAfterSeconds`
 * comes from the body or, failing that, the `Retry-After` header.
 */
export class BerthApiError extends BerthError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** The request's id (`X-Request-Id`), to quote when reporting a problem; absent on errors streamed mid-answer. */
  readonly requestId: string | undefined;

  constructor(body: ErrorBody, status: number, site: CallSite, retryAfterHeader?: number) {
    const { code, message, retryAfterSeconds, details } = body.error;
    const retryAfter = retryAfterSeconds ?? retryAfterHeader;
    super(code, `${code}: ${message} (${where(site)}, HTTP ${status})`, {
      ...(retryAfter !== undefined && { retryAfterSeconds: retryAfter }),
      ...(details !== undefined && { details }),
    });
    this.name = 'BerthApiError';
    this.status = status;
    this.method = site.method;
    this.path = site.path;
    this.requestId = body.error.requestId;
    // The server says whether a retry can help; trust it over the local table.
    (this as { retryable: boolean }).retryable = body.error.retryable;
  }
}

/** Narrows an error to a BerthApiError, of one of `codes` when given: `if (isApiError(err, 'NAME_CONFLICT')) ...`. */
export function isApiError<C extends ErrorCode>(err: unknown, ...codes: C[]): err is BerthApiError & { code: C } {
  return err instanceof BerthApiError && (codes.length === 0 || (codes as string[]).includes(err.code));
}

/** The call did not finish within its `timeoutMs`. */
export class BerthTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(site: CallSite, timeoutMs: number) {
    super(`${where(site)} timed out after ${timeoutMs} ms`);
    this.name = 'BerthTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class BerthAbortError extends Error {
  constructor(site: CallSite, reason: unknown) {
    super(`${where(site)} was aborted`, { cause: reason });
    this.name = 'BerthAbortError';
  }
}

/** No HTTP answer at all: connection refused or reset, DNS, TLS. */
export class BerthNetworkError extends Error {
  constructor(site: CallSite, cause: unknown) {
    const detail = networkDetail(cause);
    super(`${where(site)} failed: ${detail}`, { cause });
    this.name = 'BerthNetworkError';
  }
}

/** An answer that is not what the contracts promise: not JSON, or a body that fails its schema. */
export class BerthResponseError extends Error {
  readonly status: number;
  /** The answer's `Retry-After` (e.g. a proxy's 503), honoured by the retries. */
  readonly retryAfterSeconds: number | undefined;
  constructor(site: CallSite, status: number, problem: string, retryAfterSeconds?: number) {
    super(`malformed response from berth to ${where(site)} (HTTP ${status}): ${problem}`);
    this.name = 'BerthResponseError';
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type BerthClientError = BerthApiError | BerthTimeoutError | BerthAbortError | BerthNetworkError | BerthResponseError;

function networkDetail(err: unknown): string {
  // fetch wraps the socket error ("fetch failed"); the useful part is its cause's code.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A BerthApiError for an error that arrived inside a stream (exec `error` event, terminal error
 * frame, failed setup) rather than as an HTTP answer; the status is the one the code maps to.
 */
export function streamedApiError(e: { code: string; message: string; retryable?: boolean }, site: CallSite): BerthApiError {
  const code: ErrorCode = e.code in ERROR_CODES ? (e.code as ErrorCode) : 'INTERNAL';
  const retryable = e.retryable ?? ERROR_CODES[code].retryable;
  return new BerthApiError({ error: { code, message: e.message, retryable } }, httpStatusOf(code), site);
}
