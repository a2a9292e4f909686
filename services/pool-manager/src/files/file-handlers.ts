import {
  BerthError,
  FILE_BYTES_CHUNK_MAX_BYTES,
  FILES_LIST_MAX_ENTRIES,
  type FileEntry,
  type FilesOpReply,
  type FilesOpRequest,
  type FilesReadOpened,
  type FilesReadRequest,
  type FilesWriteRequest,
  type StreamBytes,
  type StreamControl,
  type StreamOpened,
} from '@berth/contracts';
import { serve, StreamSink, type Logger, type NatsConnection, type Subscription } from '@berth/service-kit';
import type { AgentRegistry } from '../agent/agent-registry.js';
import type { OutputChunk } from '../driver/exec-process.js';
import type { Activity } from '../idle/activity.js';
import type { WorkspaceAccess } from '../workspaces/access.js';
import { entryOf, FileChannel } from './file-channel.js';
import { tooLarge } from './file-errors.js';

export interface FileDeps {
  nc: NatsConnection;
  access: WorkspaceAccess;
  agents: AgentRegistry | undefined;
  /** A transfer in progress keeps its workspace from being reaped as idle. */
  activity: Activity;
  maxUploadBytes: number;
  logger: Logger;
}

/** A list's reply stays well under NATS's 1 MiB payload: entries past this many bytes are cut (truncated). */
const LIST_MAX_BYTES = 768 * 1024;
/** How long an upload's last step (rename, tar finishing) may take once the last byte is sent. */
const FINISH_TIMEOUT_MS = 120_000;

const opPath = (req: FilesOpRequest) => (req.op === 'move' ? req.from : req.path);

async function fileOp(d: FileDeps, req: FilesOpRequest): Promise<FilesOpReply> {
  await d.access.get(req.id, req.owner);
  const { id: _id, owner: _owner, ...request } = req;
  const ch = await FileChannel.open(d.agents, req.id, { ...request, maxEntries: FILES_LIST_MAX_ENTRIES }, opPath(req));
  try {
    if (req.op !== 'list') {
      const result = await ch.expect('result');
      const entry = entryOf(result.entry);
      return entry ? { entry } : {};
    }
    const entries: FileEntry[] = [];
    let bytes = 0;
    for (;;) {
      const msg = await ch.next();
      if (msg.type === 'result') return { entries, truncated: msg.truncated === true };
      if (msg.type !== 'entries' || !Array.isArray(msg.entries))
        throw new BerthError('FILE_OPERATION_FAILED', "the workspace's agent answered out of protocol");
      for (const raw of msg.entries as unknown[]) {
        const entry = entryOf(raw);
        if (!entry) continue;
        bytes += entry.path.length + entry.name.length + 120;
        // More than asked for, or more than a reply holds: what fits, marked truncated.
        if (entries.length >= FILES_LIST_MAX_ENTRIES || bytes > LIST_MAX_BYTES) return { entries, truncated: true };
        entries.push(entry);
      }
    }
  } finally {
    ch.close();
  }
}

const num = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) >= -1 ? (v as number) : undefined);

async function openRead(d: FileDeps, req: FilesReadRequest): Promise<FilesReadOpened> {
  await d.access.get(req.id, req.owner);
  const ch = await FileChannel.open(d.agents, req.id, { op: req.tar ? 'tarOut' : 'read', path: req.path, ...(req.range && { range: req.range }) }, req.path);
  let opened: FilesReadOpened;
  try {
    const meta = await ch.expect('meta');
    const size = num(meta.size) ?? null;
    const start = num(meta.start) ?? 0;
    const end = num(meta.end) ?? null;
    if (!req.tar && (size === null || end === null || start < 0 || end >= size || end < start - 1))
      throw new BerthError('FILE_OPERATION_FAILED', "the workspace's agent answered out of protocol");
    opened = { streamId: req.streamId, size, start, end, mtime: typeof meta.mtime === 'string' ? meta.mtime.slice(0, 40) : null };
  } catch (err) {
    ch.close();
    throw err;
  }
  const sink = new StreamSink(d.nc, req.streamId, req.inbox, req.window, d.logger);
  const release = d.activity.hold(req.id);
  // A plain file sends exactly the range it announced: more is cut off, less is an error.
  const expected = opened.end === null ? undefined : opened.end - opened.start + 1;
  pumpRead(ch, sink, expected)
    .catch((err: unknown) => {
      ch.close();
      sink.finish({ type: 'error', error: (err instanceof BerthError ? err : new BerthError('FILE_OPERATION_FAILED', 'the download failed')).toBody().error });
    })
    .finally(release);
  return opened;
}

async function pumpRead(ch: FileChannel, sink: StreamSink, expected: number | undefined): Promise<void> {
  void sink.cancelled.then(() => {
    if (!sink.closed) ch.close();
  });
  let sent = 0;
  for await (const chunk of ch.conn.decoder as AsyncIterable<OutputChunk>) {
    if (sink.closed) break;
    if (chunk.stream !== 'stdout' || (expected !== undefined && sent + chunk.data.length > expected)) {
      throw new BerthError('FILE_OPERATION_FAILED', "the workspace's agent sent more than the file holds");
    }
    sent += chunk.data.length;
    for (let i = 0; i < chunk.data.length; i += FILE_BYTES_CHUNK_MAX_BYTES) await sink.sendBytes(chunk.data.subarray(i, i + FILE_BYTES_CHUNK_MAX_BYTES));
  }
  if (sink.closed) return;
  await ch.expect('result', 1_000);
  if (expected !== undefined && sent !== expected) throw new BerthError('FILE_OPERATION_FAILED', 'the file changed while it was read');
  sink.finish({ type: 'done' });
}

async function openWrite(d: FileDeps, req: FilesWriteRequest): Promise<StreamOpened> {
  await d.access.get(req.id, req.owner);
  const limit = d.maxUploadBytes;
  if (req.size !== undefined && req.size > limit) throw tooLarge(limit);
  const request = { op: req.tar ? 'untar' : 'write', path: req.path, maxBytes: limit, ...(req.mode !== undefined && { mode: req.mode }) };
  const ch = await FileChannel.open(d.agents, req.id, request, req.path);
  try {
    await ch.expect('ready');
  } catch (err) {
    ch.close();
    throw err;
  }
  const release = d.activity.hold(req.id);
  let expectedSeq = 1;
  let total = 0;
  let chain = Promise.resolve();
  const take = (msg: StreamControl | StreamBytes) => {
    chain = chain
      .then(() => upload(msg))
      .catch((err: unknown) => {
        ch.close();
        sink.finish({ type: 'error', error: (err instanceof BerthError ? err : new BerthError('FILE_OPERATION_FAILED', 'the upload failed')).toBody().error });
      });
  };
  const sink = new StreamSink(d.nc, req.streamId, req.inbox, req.window, d.logger, take);
  sink.onBytes = (seq, data) => take({ type: 'bytes', seq, data });
  // Bytes come as binary messages (`bytes`), or base64 `data` from a gateway of before them.
  const upload = async (msg: StreamControl | StreamBytes) => {
    if (sink.closed) return;
    if (msg.type === 'data' || msg.type === 'bytes') {
      if (msg.seq !== expectedSeq) throw new BerthError('FILE_OPERATION_FAILED', 'the upload lost data in transit; nothing was written');
      expectedSeq += 1;
      const data = msg.type === 'bytes' ? Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength) : Buffer.from(msg.data, 'base64');
      total += data.length;
      // Closing the connection makes the agent drop its temporary file: nothing half-written.
      if (total > limit) throw tooLarge(limit);
      await ch.write(data);
      sink.ack(msg.seq);
    } else if (msg.type === 'eof') {
      if (msg.seq !== expectedSeq - 1) throw new BerthError('FILE_OPERATION_FAILED', 'the upload lost data in transit; nothing was written');
      ch.send({ type: 'eof' });
      const result = await ch.expect('result', FINISH_TIMEOUT_MS, limit);
      const entry = entryOf(result.entry);
      ch.close();
      sink.finish({ type: 'done', ...(entry && { entry }) });
    }
  };
  void sink.cancelled.then(() => {
    if (!sink.closed) {
      ch.close();
      sink.close();
    }
  });
  void ch.conn.ended.then(() => chain).finally(release);
  return { streamId: req.streamId };
}

/** Files in a workspace through its agent (docs/files.md). */
export function serveFileHandlers(d: FileDeps): Subscription[] {
  return [
    serve(d.nc, 'filesOp', (req) => fileOp(d, req), d.logger),
    serve(d.nc, 'filesRead', (req) => openRead(d, req), d.logger),
    serve(d.nc, 'filesWrite', (req) => openWrite(d, req), d.logger),
  ];
}
