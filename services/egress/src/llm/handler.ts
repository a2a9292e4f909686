import type { LlmProvider } from '@berth/contracts';
import { llmKeyHash, type Logger } from '@berth/service-kit';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { forwardHeaders } from '../proxy/server.js';
import { clientKey } from './client-key.js';
import { sendError, type LlmRefusal } from './errors.js';
import { parseLlmRoute, providerOf, type LlmRoute } from './routes.js';
import type { Admission, LlmStore } from './store.js';
import { upstreamHeaders, upstreamRequest, type ProviderConfig } from './upstream.js';
import { UsageMeter, type MeteredUsage } from './usage-meter.js';

/** One call egress forwarded, once its answer has ended (or was cut). */
export interface ForwardedCall {
  route: LlmRoute;
  workspaceId: string;
  owner: string;
  status: number;
  stream: boolean;
  usage: MeteredUsage;
  startedAt: number;
  durationMs: number;
  /** The client left or the provider broke off before the answer ended. */
  cut: boolean;
}

export interface LlmProxyOptions {
  store: Pick<LlmStore, 'admit' | 'known'>;
  providers: Record<LlmProvider, ProviderConfig>;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** The client socket's idle timeout during a call (a slow model can think for minutes). */
  socketTimeoutMs: number;
  /** A refusal by egress (not usage). */
  onRefused: (provider: LlmProvider, refusal: LlmRefusal | 'aborted') => void;
  onFirstByte: (provider: LlmProvider, ms: number) => void;
  /** After the answer ended: records usage, publishes the event, logs. Must not throw. */
  onForwarded: (call: ForwardedCall) => void;
}

/** The path of a refused URL for its error message: no query, no key-like text, bounded. */
const shownPath = (url: string) =>
  url
    .split('?')[0]!
    .slice(0, 200)
    .replace(/bk_[A-Za-z0-9_-]*/g, 'bk_…')
    .replace(/[^\x21-\x7e]/g, '?');

const LIMIT_TEXT = { requests: 'requests per minute', tokens: 'tokens per day', spend: 'spend (USD) per day' } as const;

/**
 * The LLM reverse proxy: checks the scoped key and the limits in one Redis round trip, swaps the
 * key for the real one and streams both ways, chunk by chunk, reading usage from the answer
 * after each chunk has been written to the client.
 */
export function createLlmHandler(opts: LlmProxyOptions, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const refuse = (res: ServerResponse, provider: LlmProvider, refusal: LlmRefusal, message: string, retryAfter?: number, workspaceId?: string) => {
    opts.onRefused(provider, refusal);
    const status = sendError(res, provider, refusal, message, retryAfter);
    logger.info({ provider, status, refusal, workspaceId }, 'llm call refused');
  };

  return (req, res) => {
    const url = req.url ?? '';
    const route = parseLlmRoute(url);
    const provider = route?.provider ?? providerOf(url);
    if (!route) return refuse(res, provider, 'not_found', `${req.method ?? 'GET'} ${shownPath(url)} is not an LLM endpoint egress serves`);
    // The scoped key first: whoever has no valid key learns nothing, not even which providers exist.
    const key = clientKey(req.headers);
    if (!key) return refuse(res, provider, 'unauthorized', 'missing or malformed berth LLM key (expected bk_…)');
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > opts.maxBodyBytes) return refuse(res, provider, 'too_large', `request body over ${opts.maxBodyBytes} bytes`);
    const cfg = opts.providers[provider];
    const storeDown = (err: unknown) => {
      logger.warn({ provider, err: (err as Error).message }, 'llm key store unavailable');
      refuse(res, provider, 'unavailable', 'the LLM key store is unavailable; retry shortly', 1);
    };
    if (!cfg.apiKey) {
      // Checked without admitting: a call that cannot be forwarded spends none of the key's limits.
      opts.store
        .known(llmKeyHash(key))
        .then(
          (known) =>
            known
              ? refuse(res, provider, 'not_configured', `the ${provider} provider is not configured on this berth (LLM_${provider.toUpperCase()}_API_KEY)`)
              : refuse(res, provider, 'unauthorized', 'unknown or revoked berth LLM key'),
          storeDown,
        );
      return;
    }
    req.socket.setTimeout(opts.socketTimeoutMs);
    opts.store.admit(llmKeyHash(key)).then((a) => admitted(req, res, route, cfg, a), storeDown);
  };

  function admitted(req: IncomingMessage, res: ServerResponse, route: LlmRoute, cfg: ProviderConfig, a: Admission): void {
    const { provider } = route;
    if (a.outcome === 'unknown') return refuse(res, provider, 'unauthorized', 'unknown or revoked berth LLM key');
    if (a.outcome === 'limited') {
      return refuse(
        res,
        provider,
        'rate_limited',
        `${a.scope} limit of ${a.limit} ${LIMIT_TEXT[a.reason]} reached; retry after ${a.retryAfterSeconds} s`,
        a.retryAfterSeconds,
        a.workspaceId,
      );
    }
    if (res.destroyed) return opts.onRefused(provider, 'aborted');
    forward(req, res, route, cfg, a.workspaceId, a.owner);
  }

  function forward(req: IncomingMessage, res: ServerResponse, route: LlmRoute, cfg: ProviderConfig, workspaceId: string, owner: string): void {
    const { provider } = route;
    const startedAt = Date.now();
    const t0 = performance.now();
    const upstream = upstreamRequest(cfg, `${route.path}${route.search}`, req.method ?? 'GET', upstreamHeaders(provider, req.headers, cfg.apiKey));
    const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), opts.upstreamTimeoutMs);
    let meter: UsageMeter | undefined;
    let status = 0;
    let done = false;
    const finish = (cut: boolean) => {
      if (done || !meter) return;
      done = true;
      opts.onForwarded({
        route,
        workspaceId,
        owner,
        status,
        stream: meter.mode === 'sse',
        usage: meter.end(),
        startedAt,
        durationMs: performance.now() - t0,
        cut,
      });
    };

    let sent = 0;
    const count = (chunk: Buffer) => {
      sent += chunk.length;
      if (sent <= opts.maxBodyBytes) return;
      req.off('data', count);
      req.unpipe(upstream);
      upstream.destroy();
      clearTimeout(timer);
      refuse(res, provider, 'too_large', `request body over ${opts.maxBodyBytes} bytes`, undefined, workspaceId);
      req.resume(); // the rest is read and dropped; the connection closes after the answer
    };
    req.on('data', count);
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (res.writableFinished) return;
      upstream.destroy();
      if (!meter) opts.onRefused(provider, 'aborted');
      finish(true);
    });

    upstream.on('response', (up) => {
      clearTimeout(timer);
      opts.onFirstByte(provider, performance.now() - t0);
      status = up.statusCode ?? 502;
      meter = status >= 200 && status < 300 ? UsageMeter.forContentType(up.headers['content-type']) : new UsageMeter('none');
      res.writeHead(status, up.statusMessage, forwardHeaders(up.headers));
      if (meter.mode === 'sse') res.flushHeaders();
      up.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) up.pause();
        meter!.feed(chunk);
      });
      res.on('drain', () => up.resume());
      up.on('end', () => {
        res.end();
        finish(false);
      });
      up.on('error', () => {
        res.destroy();
        finish(true);
      });
      up.on('close', () => {
        if (!up.complete) {
          res.destroy();
          finish(true);
        }
      });
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (res.headersSent || res.destroyed) return;
      const why = err.code === 'ETIMEDOUT' ? `did not answer within ${opts.upstreamTimeoutMs} ms` : `is unreachable (${err.code ?? 'connection failed'})`;
      logger.warn({ provider, endpoint: route.endpoint, workspaceId, err: err.code ?? err.message }, 'llm provider unreachable');
      refuse(res, provider, 'upstream_unreachable', `the ${provider} provider ${why}`, undefined, workspaceId);
    });
    req.pipe(upstream);
  }
}
