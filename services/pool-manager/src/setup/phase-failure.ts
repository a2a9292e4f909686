import type { CloneFailureReason } from '@berth/contracts';

export type SetupErrorCode = 'CLONE_FAILED' | 'INSTALL_FAILED' | 'START_FAILED' | 'PHASE_TIMEOUT' | 'SETUP_INTERRUPTED';

/** Ends a setup as `failed` with this code, message, (scrubbed) log tail and, for a clone, why. */
export class PhaseFailure extends Error {
  constructor(
    readonly code: SetupErrorCode,
    message: string,
    readonly logTail?: string,
    readonly reason?: CloneFailureReason,
  ) {
    super(message);
  }
}

/** The time left of a phase that started with `deadline(ms)`. */
export class PhaseClock {
  private readonly until: number;

  constructor(
    readonly phase: string,
    readonly timeoutMs: number,
  ) {
    this.until = Date.now() + timeoutMs;
  }

  left(): number {
    return Math.max(0, this.until - Date.now());
  }

  timeout(logTail?: string): PhaseFailure {
    return new PhaseFailure('PHASE_TIMEOUT', `${this.phase} did not finish within ${this.timeoutMs} ms`, logTail);
  }
}
