import type { z } from 'zod';
import { BerthAbortError, BerthApiError, BerthNetworkError, BerthResponseError, BerthTimeoutError, type CallSite } from './errors.js';
import { DEFAULT_TIMEOUT_MS, type BerthOptions, type CallOptions } from './options.js';
import { readResponse, throwErrorResponse } from './response.js';
import { NO_RETRY, resolvePolicy, withRetry } from './retry.js';
import { callSignal, type CallSignal } from './signals.js';

export interface RequestSpec<S extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  schema: S;
  body?: unknown;
  /** Sent as is instead of a JSON `body` (file uploads); a stream is sent as it is read. */
  rawBody?: Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  /** Statuses whose body is `schema`; others must be berth error bodies. Default [200]. */
  ok?: readonly number[];
  /** Safe to send again: the retry policy applies. */
  idempotent: boolean;
  /** Deadline when the caller gives none (exec waits for its command). */
  defaultTimeoutMs?: number;
}

/** HTTP to the gateway with global fetch: auth, deadlines, abort, retries, typed errors. */
export class Transport {
  readonly #apiKey: string;
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #retry: BerthOptions['retry'];
  readonly #fetchFn: typeof globalThis.fetch;

  constructor(opts: BerthOptions) {
    const url = opts.url || process.env.BERTH_URL;
    const apiKey = opts.apiKey || process.env.BERTH_API_KEY;
    if (!url) throw new TypeError('Berth: no url: pass { url } or set BERTH_URL');
    if (!apiKey) throw new TypeError('Berth: no apiKey: pass { apiKey } or set BERTH_API_KEY');
    this.#base = url.replace(/\/+$/, '');
    this.#apiKey = apiKey;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = opts.retry;
    this.#fetchFn = opts.fetch ?? globalThis.fetch;
  }

  get url(): string {
    return this.#base;
  }

  async request<S extends z.ZodType>(spec: RequestSpec<S>, call: CallOptions = {}): Promise<z.infer<S>> {
    const site: CallSite = { method: spec.method, path: spec.path };
    const timeoutMs = call.timeoutMs ?? spec.defaultTimeoutMs ?? this.#timeoutMs;
    const sig = callSignal(timeoutMs, call.signal);
    const policy = spec.idempotent ? resolvePolicy(this.#retry, call.retry) : NO_RETRY;
    try {
      return await withRetry(policy, sig.signal, () => this.#once(spec, site, sig));
    } catch (err) {
      throw classify(err, site, sig, timeoutMs);
    }
  }

  /**
   * Opens a streaming answer (SSE, NDJSON, text): resolves with the response once its status is
   * one of `ok`; any other status is thrown as the error its body describes. Reading the body is
   * the caller's job, under `sig` (which covers the whole stream). Never retried here.
   */
  async open(spec: StreamSpec, sig: CallSignal): Promise<Response> {
    const site: CallSite = { method: spec.method, path: spec.path };
    const res = await this.#fetch(spec, site, sig);
    if ((spec.ok ?? [200]).includes(res.status)) return res;
    return throwErrorResponse(res, site);
  }

  /** A ws:// URL for `path` on the gateway (the API key never goes in it). */
  wsUrl(path: string): string {
    return `${this.#base.replace(/^http/, 'ws')}${path}`;
  }

  async #once<S extends z.ZodType>(spec: RequestSpec<S>, site: CallSite, sig: CallSignal): Promise<z.infer<S>> {
    const res = await this.#fetch(spec, site, sig);
    return readResponse(res, site, spec.schema, spec.ok ?? [200]);
  }

  async #fetch(spec: StreamSpec, site: CallSite, sig: CallSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers, authorization: `Bearer ${this.#apiKey}` };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.#fetchFn(`${this.#base}${spec.path}`, {
        method: spec.method,
        headers,
        signal: sig.signal,
        ...(spec.body !== undefined && { body: JSON.stringify(spec.body) }),
        ...(spec.rawBody !== undefined && { body: spec.rawBody, duplex: 'half' }),
      } as RequestInit);
    } catch (err) {
      if (sig.signal.aborted) throw err;
      throw new BerthNetworkError(site, err);
    }
  }
}

export type StreamSpec = Omit<RequestSpec<z.ZodType>, 'schema' | 'idempotent' | 'defaultTimeoutMs'>;

/** Anything thrown by a call as one of the SDK's errors; what fetch or a wait throws on abort is told apart here. */
export function classify(err: unknown, site: CallSite, sig: CallSignal, timeoutMs: number | undefined): Error {
  if (isSdkError(err)) return err;
  if (sig.aborted()) return new BerthAbortError(site, sig.signal.reason);
  if (sig.timedOut()) return new BerthTimeoutError(site, timeoutMs ?? 0);
  return new BerthNetworkError(site, err);
}

function isSdkError(err: unknown): err is BerthApiError | BerthResponseError | BerthNetworkError {
  return err instanceof BerthApiError || err instanceof BerthResponseError || err instanceof BerthNetworkError;
}
