/**
 * What went wrong in the container engine, in the engine's neutral terms. Every WorkloadDriver
 * method fails with a WorkloadError (the Docker driver translates dockerode's errors inside itself),
 * so nothing above the driver knows which engine answered.
 */
export type WorkloadErrorKind =
  /** The workload, volume, network or image named does not exist (any more). */
  | 'not_found'
  /**
   * The operation clashes with the object's state or with another operation on it: a name that is
   * taken, a removal already in progress, a volume that a workload still mounts.
   */
  | 'conflict'
  /** The workload exists but is not running (it exited, was stopped or paused): nothing can start in it. */
  | 'exited'
  /**
   * The engine made the workload but its process could not start (no such executable, not
   * executable for the workspace user, wrong architecture): the same image fails again, so not retryable.
   */
  | 'cannot_start'
  /** The engine refused the request as malformed (a bad option, a name it does not accept). */
  | 'invalid_spec'
  /** The engine did not answer, or failed on its side: the same request may pass later. */
  | 'engine_unavailable';

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';

  constructor(
    readonly kind: WorkloadErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isWorkloadError = (err: unknown, kind?: WorkloadErrorKind): err is WorkloadError =>
  err instanceof WorkloadError && (kind === undefined || err.kind === kind);
