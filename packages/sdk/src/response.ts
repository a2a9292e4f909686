import { ErrorBodySchema } from '@berth/contracts';
import type { z } from 'zod';
import { BerthApiError, BerthResponseError, type CallSite } from './errors.js';

/** Seconds from a `Retry-After` header: delta-seconds or an HTTP date. */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function issuesOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

/**
 * The body of an answer whose status is one of `ok`, parsed with its contracts schema; any other
 * status becomes the BerthApiError its error body describes.
 */
export async function readResponse<S extends z.ZodType>(res: Response, site: CallSite, schema: S, ok: readonly number[]): Promise<z.infer<S>> {
  const text = await res.text();
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BerthResponseError(
      site,
      res.status,
      `body is not JSON (${text.length} bytes${ok.includes(res.status) ? '' : ', unexpected status'})`,
      retryAfter,
    );
  }
  if (!ok.includes(res.status)) {
    const error = ErrorBodySchema.safeParse(json);
    if (!error.success)
      throw new BerthResponseError(site, res.status, `unexpected status with a body that is not a berth error: ${issuesOf(error.error)}`, retryAfter);
    throw new BerthApiError(error.data, res.status, site, retryAfter);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BerthResponseError(site, res.status, issuesOf(parsed.error));
  return parsed.data;
}

/** An answer whose status is not a success: the BerthApiError its body describes. */
export async function throwErrorResponse(res: Response, site: CallSite): Promise<never> {
  return readResponse(res, site, ErrorBodySchema, []) as Promise<never>;
}
