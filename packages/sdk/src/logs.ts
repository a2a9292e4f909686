import { setTimeout as sleep } from 'node:timers/promises';
import { LogEventSchema, type LogEvent } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import { BerthApiError, BerthNetworkError, BerthResponseError, type CallSite } from './errors.js';
import { linesOf, sseEventsOf } from './lines.js';
import { callSignal, type CallSignal } from './signals.js';
import { classify, type Transport } from './transport.js';

export interface LogsOptions {
  /** Keep the stream open for new output (default true). false reads what is stored and ends. */
  follow?: boolean;
  /** Start at this time (a Date or an ISO string). */
  since?: Date | string;
  /** Start this many lines from the end. */
  tail?: number;
  /** Resume after this event id (one this API sent; e.g. `line.id` from an earlier iteration). */
  after?: string;
  /** Ends the iteration; the loop then throws BerthAbortError. */
  signal?: AbortSignal;
  /** Deadline for the whole iteration; none by default. */
  timeoutMs?: number;
  /** Reconnects after a dropped connection, resuming after the last event seen. */
  reconnect?: { attempts?: number; delayMs?: number; maxDelayMs?: number };
}

/**
 * One line (or piece of a long line) of container output. `id` is the server's event id, opaque:
 * pass it as `after` to resume there. With `follow: false` the server answers plain text, so
 * only `line` and `continued` are known.
 */
export interface LogLine extends Partial<Omit<LogEvent, 'line'>> {
  line: string;
  id?: string;
}

/** Reconnect attempts in a row without any event in between, before the last error is thrown. */
export const LOGS_RECONNECT = { attempts: 10, delayMs: 250, maxDelayMs: 5_000 };

function queryOf(opts: LogsOptions, follow: boolean): string {
  const q = new URLSearchParams();
  if (!follow) q.set('follow', 'false');
  if (opts.tail !== undefined) q.set('tail', String(opts.tail));
  if (opts.since !== undefined) q.set('since', typeof opts.since === 'string' ? opts.since : opts.since.toISOString());
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** What a dropped stream looks like: the connection failed, or the body broke off. */
export function isDrop(err: unknown, sig: CallSignal): boolean {
  if (sig.signal.aborted) return false;
  if (err instanceof BerthNetworkError) return true;
  if (err instanceof BerthApiError) return err.retryable;
  return !(err instanceof BerthResponseError);
}

/** `container.logs()`: an async iterator over log lines that reconnects with Last-Event-ID. */
export async function* streamLogs(transport: Transport, id: string, opts: LogsOptions = {}): AsyncGenerator<LogLine> {
  const follow = opts.follow ?? true;
  const path = `${containerPath(id)}/logs${queryOf(opts, follow)}`;
  const site: CallSite = { method: 'GET', path };
  const sig = callSignal(opts.timeoutMs, opts.signal);
  const policy = { ...LOGS_RECONNECT, ...opts.reconnect };
  let lastId = opts.after;
  let failures = 0;
  for (;;) {
    try {
      if (!follow) {
        yield* readText(transport, path, site, sig);
        return;
      }
      const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastId !== undefined && { 'last-event-id': lastId }) };
      const res = await transport.open({ method: 'GET', path, headers }, sig);
      for await (const line of logEventsOf(res, site)) {
        failures = 0;
        lastId = line.id ?? lastId;
        yield line;
      }
      // A followed stream only ends when the connection does: resume.
      if (sig.signal.aborted) throw sig.signal.reason;
    } catch (err) {
      if (!follow || !isDrop(err, sig) || ++failures > policy.attempts) throw classify(err, site, sig, opts.timeoutMs);
    }
    const delay = Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.max(0, failures - 1));
    try {
      await sleep(delay, undefined, { signal: sig.signal });
    } catch (err) {
      throw classify(err, site, sig, opts.timeoutMs);
    }
  }
}

/** The log lines of an SSE response of the logs route. */
export async function* logEventsOf(res: Response, site: CallSite): AsyncGenerator<LogLine> {
  if (!res.body) throw new BerthResponseError(site, res.status, 'no body');
  for await (const e of sseEventsOf(res.body)) {
    // Unnamed events (`message`); `log` from gateways before they were unnamed.
    if (e.event !== 'message' && e.event !== 'log') continue;
    const parsed = LogEventSchema.safeParse(parseJson(e.data));
    if (!parsed.success) throw new BerthResponseError(site, res.status, 'a log event does not match LogEvent');
    yield { ...parsed.data, ...(e.id !== undefined && { id: e.id }) };
  }
}

async function* readText(transport: Transport, path: string, site: CallSite, sig: CallSignal): AsyncGenerator<LogLine> {
  const res = await transport.open({ method: 'GET', path, headers: { accept: 'text/plain' } }, sig);
  if (!res.body) throw new BerthResponseError(site, res.status, 'no body');
  for await (const line of linesOf(res.body)) yield { line };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
