import type { ContainerInfo, ContainerSource } from './container-source.js';
import { FrameDecoder, RawLineDecoder } from './docker-frames.js';
import { LineAssembler } from './line-assembler.js';
import type { LogPublisher, LogStore } from './log-store.js';
import { resumeSince, type Positions } from './positions.js';

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
export async function followContainer(c: ContainerInfo, source: ContainerSource, store: LogStore, opts: FollowOptions, signal: AbortSignal): Promise<void> {
  const resume = await store.lastPositions(c.workspaceId);
  if (signal.aborted) return;
  const publisher = store.publisher(c.workspaceId, resume);
  try {
    const seen = await copyLogs(c, source, publisher, opts, signal, resume, true);
    // Docker can end a follow before the log driver has written a stopped container's last
    // output (a final line without newline, most often): one more read of what is stored now.
    if (seen && !signal.aborted) await copyLogs(c, source, publisher, opts, signal, seen, false);
  } finally {
    await publisher.flush();
  }
}

/** One read of a container's logs into the publisher; the positions it reached, or undefined when aborted. */
async function copyLogs(
  c: ContainerInfo,
  source: ContainerSource,
  publisher: LogPublisher,
  opts: FollowOptions,
  signal: AbortSignal,
  from: Positions,
  follow: boolean,
): Promise<Positions | undefined> {
  const { stream, tty } = await source.logs(c.ref, resumeSince(from, opts.resumeSlackMs), follow);
  const stop = () => stream.destroy();
  signal.addEventListener('abort', stop, { once: true });
  const decoder = tty ? new RawLineDecoder() : new FrameDecoder();
  const assembler = new LineAssembler(opts.maxLineBytes, from);
  try {
    for await (const chunk of stream) {
      const records = decoder.push(chunk as Buffer).flatMap((frame) => assembler.push(frame));
      if (records.length === 0) continue;
      await publisher.publish(records);
      opts.onRecords?.(records.length);
    }
    return assembler.positions();
  } catch (err) {
    if (!signal.aborted) throw err;
    return undefined;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
