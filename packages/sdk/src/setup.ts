import { setTimeout as sleep } from 'node:timers/promises';
import { SetupStatusSchema, TERMINAL_SETUP_PHASES, type SetupBody, type SetupStatus } from '@berth/contracts';
import { containerPath } from './container-calls.js';
import { streamedApiError } from './errors.js';
import type { LogLine } from './logs.js';
import type { CallOptions } from './options.js';
import { followSetupOutput, type SetupOutputFollower } from './setup-output.js';
import { callSignal } from './signals.js';
import { classify, type Transport } from './transport.js';

export interface SetupOptions extends Omit<CallOptions, 'retry'> {
  /** Called once per new status (each `seq`), the first included. */
  onProgress?: (status: SetupStatus) => void;
  /**
   * Called with each line of the container's logs while the setup runs, as it comes: stream
   * `setup` is what the setup ran and said (clone and install output, `[setup] ...` phase lines;
   * `phase` says which), stdout/stderr the container's own output (the dev server's).
   */
  onOutput?: (line: LogLine) => void;
  /** How often to read the status while waiting (default 1000 ms). */
  pollIntervalMs?: number;
}

/** A whole setup (clone, install, build, start) can take minutes. */
export const SETUP_DEFAULT_TIMEOUT_MS = 15 * 60_000;

/** `GET /api/containers/:id/setup`: the latest setup status (SETUP_NOT_FOUND before any setup). */
export function getSetupStatus(transport: Transport, id: string, opts: CallOptions = {}): Promise<SetupStatus> {
  return transport.request({ method: 'GET', path: `${containerPath(id)}/setup`, schema: SetupStatusSchema, idempotent: true }, opts);
}

/**
 * Starts a setup and waits for it: resolves with the `ready` status, throws a BerthApiError with
 * the setup's error code (and the status in `details`-free form on `.setup`) when it failed.
 */
export async function runSetup(transport: Transport, id: string, body: SetupBody, opts: SetupOptions = {}): Promise<SetupStatus> {
  const path = `${containerPath(id)}/setup`;
  const site = { method: 'POST', path };
  const timeoutMs = opts.timeoutMs ?? SETUP_DEFAULT_TIMEOUT_MS;
  const sig = callSignal(timeoutMs, opts.signal);
  const call = { signal: sig.signal, timeoutMs };
  let lastSeq = 0;
  const seen = (s: SetupStatus) => {
    if (s.seq <= lastSeq) return;
    lastSeq = s.seq;
    opts.onProgress?.(s);
  };
  let output: SetupOutputFollower | undefined;
  try {
    // Following first, so the setup's first line is not missed.
    if (opts.onOutput) output = await followSetupOutput(transport, id, opts.onOutput, sig.signal);
    let status = await transport.request({ method: 'POST', path, schema: SetupStatusSchema, body, ok: [200, 201, 202], idempotent: false }, call);
    seen(status);
    while (!TERMINAL_SETUP_PHASES.includes(status.phase)) {
      await sleep(opts.pollIntervalMs ?? 1_000, undefined, { signal: sig.signal });
      status = await getSetupStatus(transport, id, { ...call, retry: { attempts: 3 } });
      seen(status);
    }
    await output?.finish();
    if (status.phase === 'failed') {
      throw Object.assign(streamedApiError({ code: status.error?.code ?? 'INTERNAL', message: status.error?.message ?? 'setup failed' }, site), {
        setup: status,
      });
    }
    return status;
  } catch (err) {
    throw classify(err, site, sig, timeoutMs);
  } finally {
    output?.stop();
  }
}
