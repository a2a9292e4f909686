import { TerminalServerFrameSchema, TicketReplySchema } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import { BerthAbortError, BerthNetworkError, BerthTimeoutError, streamedApiError, type CallSite } from './errors.js';
import type { CallOptions } from './options.js';
import type { Transport } from './transport.js';

export interface TerminalOptions extends Omit<CallOptions, 'retry'> {
  /** Initial size (default 80x24). */
  cols?: number;
  rows?: number;
}

/** How the shell ended: its exit code, or null when the connection closed without one. */
export interface TerminalExit {
  code: number | null;
}

/** Output held for the first reader while nobody listens yet. */
const EARLY_OUTPUT_LIMIT = 1024 * 1024;
const OPEN_TIMEOUT_MS = 30_000;

/**
 * An interactive shell on a real PTY in the workspace: `write` keystrokes, read output with
 * `onData` or `for await`, `resize`, `close`. `exited` settles when the shell ends (with its code),
 * or rejects with a BerthApiError when the server reports an error.
 */
export class Terminal implements AsyncIterable<Uint8Array> {
  readonly exited: Promise<TerminalExit>;
  readonly #ws: WebSocket;
  readonly #listeners = new Set<(data: Uint8Array) => void>();
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  #closed = false;
  readonly #closeWaiters = new Set<() => void>();

  /** @internal use `container.terminal()` */
  constructor(ws: WebSocket, site: CallSite) {
    this.#ws = ws;
    let code: number | null = null;
    let failure: Error | undefined;
    this.exited = new Promise<TerminalExit>((resolve, reject) => {
      ws.addEventListener('message', (ev: MessageEvent) => {
        if (typeof ev.data === 'string') {
          const frame = TerminalServerFrameSchema.safeParse(safeJson(ev.data));
          if (!frame.success) return;
          if (frame.data.type === 'exit') code = frame.data.code;
          else failure = streamedApiError({ code: frame.data.code, message: frame.data.message }, site);
          return;
        }
        this.#emit(new Uint8Array(ev.data as ArrayBuffer));
      });
      ws.addEventListener('close', () => {
        this.#closed = true;
        for (const wake of this.#closeWaiters) wake();
        if (failure) reject(failure);
        else resolve({ code });
      });
    });
    this.exited.catch(() => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends keystrokes (a string is sent as UTF-8). */
  write(data: string | Uint8Array): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  resize(cols: number, rows: number): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify({ type: 'resize', cols: Math.max(1, Math.floor(cols)), rows: Math.max(1, Math.floor(rows)) }));
  }

  /** Calls `listener` with each piece of output; returns a function that stops it. */
  onData(listener: (data: Uint8Array) => void): () => void {
    this.#listeners.add(listener);
    for (const chunk of this.#early.splice(0)) listener(chunk);
    this.#earlyBytes = 0;
    return () => this.#listeners.delete(listener);
  }

  /** Ends the session: the shell and everything it started are killed. */
  close(): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(1000);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    const stop = this.onData((d) => {
      queue.push(d);
      wake?.();
    });
    const onClose = () => wake?.();
    this.#closeWaiters.add(onClose);
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    } finally {
      stop();
      this.#closeWaiters.delete(onClose);
    }
  }

  #emit(chunk: Uint8Array): void {
    if (this.#listeners.size === 0) {
      if (this.#earlyBytes + chunk.length <= EARLY_OUTPUT_LIMIT) {
        this.#early.push(chunk);
        this.#earlyBytes += chunk.length;
      }
      return;
    }
    for (const l of this.#listeners) l(chunk);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Gets a single-use ticket (the API key never goes on the socket), then opens the WebSocket. */
export async function openTerminal(transport: Transport, id: string, opts: TerminalOptions = {}): Promise<Terminal> {
  const path = `${containerPath(id)}/terminal`;
  const site: CallSite = { method: 'GET', path };
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? OPEN_TIMEOUT_MS;
  const { ticket } = await transport.request(
    { method: 'POST', path: `${containerPath(id)}/tickets`, schema: TicketReplySchema, ok: [201], idempotent: false },
    { timeoutMs, ...(opts.signal && { signal: opts.signal }) },
  );
  const query = new URLSearchParams({ cols: String(opts.cols ?? 80), rows: String(opts.rows ?? 24) });
  const ws = new WebSocket(`${transport.wsUrl(path)}?${query}`, ['berth.terminal.v1', `berth.ticket.${ticket}`]);
  ws.binaryType = 'arraybuffer';
  const terminal = new Terminal(ws, site);
  await new Promise<void>((resolve, reject) => {
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const fail = (err: Error) => {
      cleanup();
      ws.close();
      reject(err);
    };
    const timer = setTimeout(() => fail(new BerthTimeoutError(site, timeoutMs)), left);
    const onAbort = () => fail(new BerthAbortError(site, opts.signal?.reason));
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onError = () => fail(new BerthNetworkError(site, new Error('the WebSocket could not be opened')));
    const cleanup = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      ws.removeEventListener('open', onOpen);
      ws.removeEventListener('error', onError);
    };
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.addEventListener('open', onOpen);
    ws.addEventListener('error', onError);
  });
  opts.signal?.addEventListener('abort', () => terminal.close(), { once: true });
  return terminal;
}
