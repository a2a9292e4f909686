/** One call's signal: the caller's signal and the call's deadline, told apart afterwards. */
export interface CallSignal {
  signal: AbortSignal;
  timedOut(): boolean;
  aborted(): boolean;
}

/** `timeoutMs` undefined means no deadline (a followed log stream runs until aborted). */
export function callSignal(timeoutMs: number | undefined, signal?: AbortSignal): CallSignal {
  const deadline = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  const parts = [signal, deadline].filter((s): s is AbortSignal => s !== undefined);
  const combined = parts.length === 1 ? parts[0]! : parts.length === 0 ? new AbortController().signal : AbortSignal.any(parts);
  return {
    signal: combined,
    // The caller's abort wins when both fired: they asked for it.
    aborted: () => signal?.aborted === true,
    timedOut: () => deadline?.aborted === true && signal?.aborted !== true,
  };
}
