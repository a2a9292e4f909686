import type { ContainerOutputStream } from '@berth/contracts';

/** Where a container's stream stands: the (Docker timestamp, index) of its last stored piece. */
export interface Position {
  ts: string;
  n: number;
  /** Pieces of this stream stored so far (what the next batch's `before` is). */
  count?: number;
}

export type Positions = Partial<Record<ContainerOutputStream, Position>>;

/** True when (ts, n) is at or before `pos`: already stored, so skipped on resume. */
export function isAtOrBefore(ts: string, n: number, pos: Position | undefined): boolean {
  if (!pos) return false;
  return ts < pos.ts || (ts === pos.ts && n <= pos.n);
}

/**
 * Docker's `since` (unix seconds with nine fractional digits) to resume from: `slackMs` before
 * the latest stored line of either stream, because Docker orders stdout and stderr by write
 * order, not strictly by timestamp. Undefined when nothing is stored: read from the beginning.
 */
export function resumeSince(positions: Positions, slackMs: number): string | undefined {
  const latest = Object.values(positions)
    .map((p) => p.ts)
    .sort()
    .at(-1);
  if (latest === undefined) return undefined;
  const seconds = BigInt(Math.floor(Date.parse(`${latest.slice(0, 19)}Z`) / 1000));
  const total = seconds * 1_000_000_000n + BigInt(latest.slice(20, 29)) - BigInt(slackMs) * 1_000_000n;
  if (total <= 0n) return undefined;
  return `${total / 1_000_000_000n}.${String(total % 1_000_000_000n).padStart(9, '0')}`;
}
