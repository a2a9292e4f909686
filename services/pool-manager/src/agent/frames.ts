import { Transform, type TransformCallback } from 'node:stream';
import type { OutputChunk } from '../driver/exec-process.js';

/** Frame kinds of the agent protocol (docker/agent/PROTOCOL.md). */
export const KIND = { json: 0, stdout: 1, stderr: 2 } as const;
const MAX_FRAME = 1024 * 1024;

/** 4-byte big-endian length of what follows, 1 byte kind, payload. */
export function encodeJson(msg: object): Buffer {
  const body = Buffer.from(JSON.stringify(msg));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = KIND.json;
  return Buffer.concat([head, body]);
}

/** A data frame to the agent (an upload's bytes), at most FILE_CHUNK_MAX_BYTES. */
export function encodeData(data: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(data.length + 1, 0);
  head[4] = KIND.stdout;
  return Buffer.concat([head, data]);
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
  private pending: Buffer = Buffer.alloc(0);
  outputAllowed = true;

  constructor(private readonly onMessage: (msg: AgentMessage) => void) {
    super({ readableObjectMode: true, readableHighWaterMark: 4 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const size = this.pending.readUInt32BE(0);
      if (size < 1 || size > MAX_FRAME) return done(new Error(`agent sent a bad frame (${size} bytes)`));
      if (this.pending.length < 4 + size) break;
      const kind = this.pending[4];
      const data = this.pending.subarray(5, 4 + size);
      this.pending = this.pending.subarray(4 + size);
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
    done();
  }
}
