import type { ContainerInfo, ContainerSource } from './container-source.js';
import { FrameDecoder, RawLineDecoder } from './docker-frames.js';
import { LineAssembler } from './line-assembler.js';
import type { LogStore } from './log-store.js';
import { resumeSince } from './positions.js';

export interface FollowOptions {
  maxLineBytes: number;
  resumeSlackMs: number;
  /** Counts pieces sent (metrics). */
  onRecords?: (count: number) => void;
}

/**
 * Copies one container's output into the store, from where the store says it left off, until
 * the container stops or `signal` aborts. Reading Docker waits on the publisher's window, so a
 * slow JetStream slows the reading, never fills memory.
 */
export async function followContainer(
  c: ContainerInfo, source: ContainerSource, store: LogStore, opts: FollowOptions, signal: AbortSignal,
): Promise<void> {
  const resume = await store.lastPositions(c.workspaceId);
  if (signal.aborted) return;
  const { stream, tty } = await source.logs(c.ref, resumeSince(resume, opts.resumeSlackMs));
  const stop = () => stream.destroy();
  signal.addEventListener('abort', stop, { once: true });
  const decoder = tty ? new RawLineDecoder() : new FrameDecoder();
  const assembler = new LineAssembler(opts.maxLineBytes, resume);
  const publisher = store.publisher(c.workspaceId, resume);
  try {
    for await (const chunk of stream) {
      const records = decoder.push(chunk as Buffer).flatMap((frame) => assembler.push(frame));
      if (records.length === 0) continue;
      await publisher.publish(records);
      opts.onRecords?.(records.length);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    signal.removeEventListener('abort', stop);
    await publisher.flush();
  }
}
