/** One attempt's signal: the caller's signal and the call's deadline, told apart afterwards. */
export interface CallSignal {
  signal: AbortSignal;
  timedOut(): boolean;
  aborted(): boolean;
}

export function callSignal(timeoutMs: number, signal?: AbortSignal): CallSignal {
  const deadline = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  return {
    signal: combined,
    // The caller's abort wins when both fired: they asked for it.
    aborted: () => signal?.aborted === true,
    timedOut: () => deadline.aborted && signal?.aborted !== true,
  };
}
