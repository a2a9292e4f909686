import { Transform, type TransformCallback, type Writable } from 'node:stream';
import type { OutputChunk } from '../driver/exec-process.js';

/** Frame kinds of the agent protocol (docker/agent/PROTOCOL.md). */
export const KIND = { json: 0, stdout: 1, stderr: 2 } as const;
const MAX_FRAME = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** 4-byte big-endian length of what follows, 1 byte kind, payload. */
export function encodeJson(msg: object): Buffer {
  const body = Buffer.from(JSON.stringify(msg));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = KIND.json;
  return Buffer.concat([head, body]);
}

/**
 * Writes a data frame to the agent (an upload's bytes, at most FILE_BYTES_CHUNK_MAX_BYTES): the
 * head and the bytes go out in one writev, the bytes never copied into a frame. False when the
 * socket is full.
 */
export function writeData(socket: Writable, data: Uint8Array): boolean {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(data.length + 1, 0);
  head[4] = KIND.stdout;
  socket.cork();
  socket.write(head);
  const room = socket.write(data);
  socket.uncork();
  return room;
}

/** The protocol version this pool-manager speaks: the agent connects to it (docker/agent/PROTOCOL.md). */
export const AGENT_PROTOCOL_VERSION = 2;

export type AgentMessage =
  | { type: 'hello'; agent: string; version: number; features?: unknown }
  | { type: 'accepted' }
  // File operations (docker/agent/PROTOCOL.md, "Files"): hostile input, checked where used.
  | { type: 'ready' }
  | { type: 'meta'; size: unknown; start: unknown; end: unknown; mtime: unknown }
  | { type: 'entries'; entries: unknown }
  | { type: 'result'; entry?: unknown; truncated?: unknown }
  | { type: 'error'; code: unknown; message?: unknown }
  | { type: 'exit'; exitCode: number | null; timedOut: boolean; stdoutTruncated?: boolean; stderrTruncated?: boolean };

/**
 * Splits the agent's byte stream into frames: output frames become output chunks (object mode,
 * so a slow reader back-pressures the socket), JSON messages go to `onMessage`. Output before
 * `outputAllowed` (an idle connection has no command) is a protocol error.
 */
export class AgentDecoder extends Transform {
  /** Bytes after the last whole frame while fewer than a frame's head (4 bytes). */
  private pending: Buffer = EMPTY;
  /**
   * The pieces of a frame still arriving (its size already checked), joined once it is whole:
   * joining at every read copied a large download frame several times over.
   */
  private parts: Buffer[] = [];
  private partsLength = 0;
  private needed = 0;
  outputAllowed = true;

  constructor(private readonly onMessage: (msg: AgentMessage) => void) {
    super({ readableObjectMode: true, readableHighWaterMark: 4 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let buf: Buffer;
    if (this.parts.length > 0) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      if (this.partsLength < this.needed) return done();
      buf = Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
    } else {
      buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    }
    while (buf.length >= 4) {
      const size = buf.readUInt32BE(0);
      if (size < 1 || size > MAX_FRAME) return done(new Error(`agent sent a bad frame (${size} bytes)`));
      if (buf.length < 4 + size) {
        this.parts = [buf];
        this.partsLength = buf.length;
        this.needed = 4 + size;
        buf = EMPTY;
        break;
      }
      const kind = buf[4];
      const data = buf.subarray(5, 4 + size);
      buf = buf.subarray(4 + size);
      if (kind === KIND.stdout || kind === KIND.stderr) {
        if (!this.outputAllowed) return done(new Error('agent sent output without a command'));
        if (data.length > 0) this.push({ stream: kind === KIND.stdout ? 'stdout' : 'stderr', data } satisfies OutputChunk);
      } else if (kind === KIND.json) {
        try {
          this.onMessage(JSON.parse(data.toString('utf8')) as AgentMessage);
        } catch (err) {
          return done(err as Error);
        }
      } else {
        return done(new Error(`agent sent an unknown frame kind ${kind}`));
      }
    }
    this.pending = buf;
    done();
  }
}
