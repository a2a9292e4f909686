import { WorkloadError, type WorkloadErrorKind } from './workload-error.js';

/** The engine refusing to run the image's process (the OCI runtime's own words, passed on by Docker). */
const CANNOT_START = /OCI runtime|executable file not found|exec format error|permission denied/i;
/** Docker's 409 for an exec or a change in a container that is not running. */
const NOT_RUNNING = /is not running|is paused|is restarting/i;

function kindOf(err: { statusCode?: number; message?: string } | null): WorkloadErrorKind {
  const status = err?.statusCode;
  const message = err?.message ?? '';
  if (status === 404) return 'not_found';
  if (status === 409) return NOT_RUNNING.test(message) ? 'exited' : 'conflict';
  if (status === 400) return CANNOT_START.test(message) ? 'cannot_start' : 'invalid_spec';
  if (status !== undefined && status >= 500 && CANNOT_START.test(message)) return 'cannot_start';
  return 'engine_unavailable';
}

/** dockerode's error (an HTTP status and Docker's message, or a socket error) as a WorkloadError. */
export function workloadErrorOf(err: unknown): WorkloadError {
  if (err instanceof WorkloadError) return err;
  const e = err as { statusCode?: number; message?: string } | null;
  return new WorkloadError(kindOf(e), e?.message ?? String(err), { cause: err });
}

/** Runs one engine call; its failure leaves as a WorkloadError. */
export async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw workloadErrorOf(err);
  }
}
