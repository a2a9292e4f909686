import { StringDecoder } from 'node:string_decoder';
import { STREAM_CHUNK_MAX_BYTES } from '@berth/contracts';
import type { ExecProcess, OutputChunk } from '../driver/exec-process.js';
import { deadline } from '../exec-run.js';
import type { StreamOutBody, StreamSink } from '@berth/service-kit';

/** Turns output into stream messages; returns '' for nothing to send yet. */
export type Encoder = { write(chunk: OutputChunk): StreamOutBody | undefined; end(): StreamOutBody[] };

/** Exec output as UTF-8 text, one decoder per stream so a character split between reads stays whole. */
export function textEncoder(): Encoder {
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  return {
    write: (c) => {
      const text = decoders[c.stream].write(c.data);
      return text ? { type: 'out', stream: c.stream, text } : undefined;
    },
    end: () =>
      (['stdout', 'stderr'] as const)
        .map((stream) => ({ stream, text: decoders[stream].end() }))
        .filter((m) => m.text)
        .map((m) => ({ type: 'out' as const, ...m })),
  };
}

/** Terminal output as base64 of the raw bytes. */
export function ptyEncoder(): Encoder {
  return { write: (c) => ({ type: 'pty', data: c.data.toString('base64') }), end: () => [] };
}

/** The last message of a stream: `end` as the process ended, or what the caller makes of it. */
export type EndMapper = (end: Extract<StreamOutBody, { type: 'end' }>) => Promise<StreamOutBody>;

/**
 * Moves a process's output into the stream until it ends, honouring the window (a slow reader
 * pauses the process), killing the process on timeout or cancel, and ends with an `end` message
 * (passed through `mapEnd` when given).
 */
export async function pump(proc: ExecProcess, sink: StreamSink, encoder: Encoder, timeoutMs: number | undefined, mapEnd?: EndMapper): Promise<void> {
  const started = performance.now();
  const timer =
    timeoutMs === undefined
      ? undefined
      : deadline(timeoutMs, () => {
          void proc.kill().catch(() => undefined);
        });
  let cancelled = false;
  void sink.cancelled.then(() => {
    cancelled = !sink.closed;
    if (cancelled) void proc.kill().catch(() => undefined);
  });
  try {
    for await (const chunk of proc.output) {
      for (let i = 0; i < chunk.data.length; i += STREAM_CHUNK_MAX_BYTES) {
        const msg = encoder.write({ stream: chunk.stream, data: chunk.data.subarray(i, i + STREAM_CHUNK_MAX_BYTES) });
        if (msg) await sink.send(msg);
      }
    }
  } catch {
    // The attach socket failed: the exit code says what became of the process.
  }
  for (const msg of encoder.end()) await sink.send(msg);
  timer?.done();
  const exitCode = await proc.exitCode();
  const end = { type: 'end' as const, exitCode, timedOut: timer?.expired() ?? false, cancelled, durationMs: Math.round(performance.now() - started) };
  sink.finish(mapEnd ? await mapEnd(end) : end);
}
