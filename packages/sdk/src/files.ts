import { FileEntrySchema, FileListSchema, FilesRemovedSchema, type FileEntry, type FileList } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import type { CallSite } from './errors.js';
import type { CallOptions } from './options.js';
import { readResponse } from './response.js';
import { callSignal } from './signals.js';
import { classify, type Transport } from './transport.js';
import { watchFiles, type WatchEvent, type WatchOptions } from './watch.js';

const TAR = 'application/x-tar';
/** Transfers get longer than ordinary calls by default. */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;

export type FileData = string | Uint8Array | ReadableStream<Uint8Array>;
export interface WriteOptions extends CallOptions {
  /** Permission bits, e.g. 0o755 (default 0o644). */
  mode?: number;
}
export interface ReadOptions extends CallOptions {
  /** Bytes `start` to `end` (inclusive); `end` omitted: to the end of the file. */
  range?: { start: number; end?: number };
}

/**
 * A workspace's files (docs/files.md), as the workspace user: paths are absolute or relative to
 * /workspace. Errors are BerthApiErrors with codes such as FILE_NOT_FOUND or FILE_TOO_LARGE.
 */
export class ContainerFiles {
  readonly #transport: Transport;
  readonly #id: string;

  constructor(transport: Transport, id: string) {
    this.#transport = transport;
    this.#id = id;
  }

  #path(route: string, query: Record<string, string | number | boolean | undefined>): string {
    const q = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');
    return `${containerPath(this.#id)}/files${route}?${q}`;
  }

  /** The file's bytes (or a range of them). */
  async read(path: string, opts: ReadOptions = {}): Promise<Uint8Array> {
    const range = opts.range ? { range: `bytes=${opts.range.start}-${opts.range.end ?? ''}` } : undefined;
    const res = await this.#open('GET', this.#path('', { path }), opts, { ...range }, [200, 206]);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The file's bytes as a stream (nothing held in memory). */
  async readStream(path: string, opts: CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#open('GET', this.#path('', { path }), opts, {}, [200]);
    return res.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /** The file's text (UTF-8). */
  async readText(path: string, opts: ReadOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.read(path, opts));
  }

  /** Writes the file whole (parents made); it appears only once complete. */
  write(path: string, data: FileData, opts: WriteOptions = {}): Promise<FileEntry> {
    const query = { path, ...(opts.mode !== undefined && { mode: opts.mode.toString(8).padStart(3, '0') }) };
    return this.#put(this.#path('', query), data, 'application/octet-stream', opts);
  }

  /** Unpacks a tar archive into the directory `dir` (made when missing). */
  upload(dir: string, tar: Uint8Array | ReadableStream<Uint8Array>, opts: CallOptions = {}): Promise<FileEntry> {
    return this.#put(this.#path('', { path: dir }), tar, TAR, opts);
  }

  /** The directory `dir` as a tar stream. */
  async download(dir: string, opts: CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#open('GET', this.#path('', { path: dir }), opts, { accept: TAR }, [200]);
    return res.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  list(path: string, opts: CallOptions & { depth?: number } = {}): Promise<FileList> {
    return this.#transport.request({ method: 'GET', path: this.#path('/list', { path, depth: opts.depth }), schema: FileListSchema, idempotent: true }, opts);
  }

  /** Removes a file, a link or a directory (recursively unless `recursive: false`). */
  async remove(path: string, opts: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    await this.#transport.request(
      { method: 'DELETE', path: this.#path('', { path, recursive: opts.recursive }), schema: FilesRemovedSchema, idempotent: true },
      opts,
    );
  }

  move(from: string, to: string, opts: CallOptions = {}): Promise<FileEntry> {
    return this.#transport.request(
      { method: 'POST', path: `${containerPath(this.#id)}/files/move`, body: { from, to }, schema: FileEntrySchema, idempotent: false },
      opts,
    );
  }

  mkdir(path: string, opts: CallOptions = {}): Promise<FileEntry> {
    return this.#transport.request(
      { method: 'POST', path: `${containerPath(this.#id)}/files/mkdir`, body: { path }, schema: FileEntrySchema, idempotent: true },
      opts,
    );
  }

  /** The directory's changes (created, modified, deleted) as they happen; resumes a dropped connection. */
  watch(path: string, opts: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    return watchFiles(this.#transport, this.#id, path, opts);
  }

  async #put(path: string, data: FileData, type: string, opts: CallOptions): Promise<FileEntry> {
    const rawBody = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const res = await this.#open('PUT', path, opts, { 'content-type': type }, [201], rawBody);
    return readResponse(res, { method: 'PUT', path }, FileEntrySchema, [201]);
  }

  async #open(
    method: 'GET' | 'PUT',
    path: string,
    opts: CallOptions,
    headers: Record<string, string>,
    ok: number[],
    rawBody?: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<Response> {
    const site: CallSite = { method, path };
    const timeoutMs = opts.timeoutMs ?? TRANSFER_TIMEOUT_MS;
    const sig = callSignal(timeoutMs, opts.signal);
    try {
      return await this.#transport.open({ method, path, headers, ok, ...(rawBody !== undefined && { rawBody }) }, sig);
    } catch (err) {
      throw classify(err, site, sig, timeoutMs);
    }
  }
}
