import { TERMINAL_SETUP_PHASES } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import type { CallSite } from './errors.js';
import { logEventsOf, streamLogs, type LogLine } from './logs.js';
import { callSignal } from './signals.js';
import type { Transport } from './transport.js';

/** After the setup ended, its last lines may still be on their way: waited for this long at most. */
const LAST_LINES_WAIT_MS = 3_000;

export interface SetupOutputFollower {
  /** Waits (briefly) for the setup's last line (`phase` ready or failed), then stops following. */
  finish(): Promise<void>;
  stop(): void;
}

/**
 * Follows a container's logs from now on, for `setup({ onOutput })`: resolves once the gateway
 * is reading (so every line of a setup started afterwards arrives), then hands each line to
 * `onOutput` as it comes: stream `setup` (what the setup ran and said, with `phase`) and the
 * container's stdout/stderr (its dev server). A dropped connection resumes after the last line.
 * Logs that cannot be followed never fail the setup: the output is a view of it, not part of it.
 */
export async function followSetupOutput(
  transport: Transport,
  id: string,
  onOutput: (line: LogLine) => void,
  signal: AbortSignal,
): Promise<SetupOutputFollower> {
  const path = `${containerPath(id)}/logs?tail=0`;
  const site: CallSite = { method: 'GET', path };
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  let res: Response;
  try {
    res = await transport.open({ method: 'GET', path, headers: { accept: 'text/event-stream' } }, callSignal(undefined, both));
  } catch (err) {
    if (signal.aborted) throw err;
    return { finish: async () => undefined, stop: () => undefined };
  }
  let ended: () => void = () => undefined;
  const lastLine = new Promise<void>((resolve) => {
    ended = resolve;
  });
  let lastId: string | undefined;
  const deliver = (line: LogLine) => {
    lastId = line.id ?? lastId;
    try {
      onOutput(line);
    } catch {
      // The caller's callback failing is not the setup failing.
    }
    if (line.stream === 'setup' && line.phase && TERMINAL_SETUP_PHASES.includes(line.phase)) ended();
  };
  const pump = (async () => {
    try {
      for await (const line of logEventsOf(res, site)) deliver(line);
    } catch {
      // Dropped: resumed below.
    }
    if (both.aborted || lastId === undefined) return;
    for await (const line of streamLogs(transport, id, { after: lastId, signal: both })) deliver(line);
  })().catch(() => undefined);
  return {
    finish: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        lastLine,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, LAST_LINES_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      stop.abort();
      await pump;
    },
    stop: () => stop.abort(),
  };
}
