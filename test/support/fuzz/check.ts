import { ERROR_CODES, ErrorBodySchema, httpStatusOf } from '@berth/contracts';

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Things that only show up when internals leak: stack frames, fastify codes, paths, library names. */
const LEAKS: [RegExp, string][] = [
  [/\n\s+at |\bat [\w.<>]+ \(/, 'stack trace'],
  [/FST_[A-Z_]+|ERR_[A-Z_]{4,}/, 'framework error code'],
  [/"statusCode"/, 'fastify error shape'],
  [/node_modules|\/work\/|\/home\/|\/usr\/|file:\/\//, 'file path'],
  [/\b(?:SyntaxError|TypeError|ReferenceError|RangeError|ZodError)\b/, 'exception class'],
  [/nats:\/\/|redis:\/\/|127\.0\.0\.1:\d+/, 'internal address'],
];

/**
 * Every property a fuzzed response must have. Returns the violations (empty when fine).
 * `allow5xx` names 5xx codes that are a designed answer where the fuzz runs (none by default).
 */
export function checkResponse(method: string, res: FuzzResponse, opts: { secrets: readonly string[]; allow5xx?: readonly string[] }): string[] {
  const problems: string[] = [];
  for (const s of opts.secrets) if (s && res.body.includes(s)) problems.push('body contains a secret');
  if (res.status >= 500 && method === 'HEAD') problems.push('5xx on HEAD');
  // A HEAD answer has no body to check.
  if (res.status < 400 || method === 'HEAD') return problems;
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) problems.push(`error content-type ${type}`);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    return [...problems, 'error body is not JSON'];
  }
  const parsed = ErrorBodySchema.safeParse(json);
  if (!parsed.success) return [...problems, 'error body does not match ErrorBodySchema'];
  const { code, retryable } = parsed.data.error;
  if (httpStatusOf(code) !== res.status) problems.push(`${code} under HTTP ${res.status}`);
  if (ERROR_CODES[code].retryable !== retryable) problems.push(`${code} with retryable=${retryable}`);
  if (res.status >= 500 && !(opts.allow5xx ?? []).includes(code)) problems.push(`5xx ${code}`);
  if (code === 'RATE_LIMITED' && !(Number(res.headers['retry-after']) >= 1)) problems.push('429 without Retry-After');
  for (const [re, what] of LEAKS) if (re.test(res.body)) problems.push(`body leaks ${what}`);
  return problems;
}
