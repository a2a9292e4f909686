import { CALLBACK_HEADERS, LEGACY_CALLBACK_HEADERS } from '@berth/contracts';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv6, type LookupFunction } from 'node:net';
import { UrlRefused, type SsrfGuard } from '../ssrf/guard.js';
import { signCallback, signWebhook } from './signature.js';

export interface Attempt {
  url: string;
  secret: string;
  body: string;
  eventId: string;
  attempt: number;
}

export type AttemptResult = { ok: true; status: number } | { ok: false; reason: string };

/** A `lookup` that answers only the address the guard checked, so no second DNS answer is used (rebinding). */
function pinnedLookup(address: string): LookupFunction {
  const family = isIPv6(address) ? 6 : 4;
  return (_host, opts, cb) => {
    if (opts.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
}

/**
 * One signed POST. The URL is checked (after DNS) right before connecting and the connection
 * goes to the checked address. Redirects are never followed: any non-2xx, 3xx included, fails.
 */
export async function sendAttempt(guard: SsrfGuard, a: Attempt, timeoutMs: number, signal: AbortSignal): Promise<AttemptResult> {
  let target;
  try {
    target = await guard.check(a.url);
  } catch (err) {
    if (err instanceof UrlRefused) return { ok: false, reason: `refused: ${err.reason}` };
    throw err;
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(a.body)),
    'user-agent': 'berth-egress',
    [CALLBACK_HEADERS.id]: a.eventId,
    [CALLBACK_HEADERS.timestamp]: String(timestamp),
    [CALLBACK_HEADERS.signature]: signWebhook(a.secret, a.eventId, timestamp, a.body),
    [LEGACY_CALLBACK_HEADERS.timestamp]: String(timestamp),
    [LEGACY_CALLBACK_HEADERS.signature]: signCallback(a.secret, timestamp, a.body),
    [LEGACY_CALLBACK_HEADERS.eventId]: a.eventId,
    [LEGACY_CALLBACK_HEADERS.attempt]: String(a.attempt),
  };
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const address = target.addresses[0]!;
  const abort = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  return new Promise<AttemptResult>((resolve) => {
    const req = request({
      host: target.host,
      port: target.port,
      path: `${target.url.pathname}${target.url.search}`,
      method: 'POST',
      headers,
      lookup: pinnedLookup(address),
      agent: false,
      signal: abort,
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      res.on('error', () => undefined);
      res.resume();
      req.destroy();
      resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, reason: `HTTP ${status}` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reason = abort.aborted ? (signal.aborted ? 'stopped' : 'timed out') : (err.code ?? 'connection failed');
      resolve({ ok: false, reason });
    });
    req.end(a.body);
  });
}
