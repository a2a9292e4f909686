/**
 * The stream sequence to start at so that exactly the last `lines` lines of one container follow,
 * given `last` (its last line's sequence, 0 for none) and `pendingFrom(seq)`, how many of its
 * lines are stored at or after `seq` (non-increasing in seq). JetStream has no "last N of a
 * filter", so this searches: steps back doubling from the end, then bisects. A busy container
 * alone in the stream needs one probe.
 */
export async function tailStartSeq(lines: number, last: number, pendingFrom: (seq: number) => Promise<number>): Promise<number> {
  if (last === 0) return 1;
  if (lines === 0) return last + 1;
  let hi = last + 1; // pending(hi) = 0 < lines
  let lo: number | undefined;
  for (let step = lines; lo === undefined; step *= 2) {
    const s = last - step + 1;
    if (s <= 1) {
      if ((await pendingFrom(1)) <= lines) return 1;
      lo = 1;
      break;
    }
    const pending = await pendingFrom(s);
    if (pending === lines) return s;
    if (pending > lines) lo = s;
    else hi = s;
  }
  // pending(lo) > lines > pending(hi): the answer is the largest s in [lo, hi) with pending(s) >= lines.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await pendingFrom(mid)) >= lines) lo = mid;
    else hi = mid;
  }
  return lo;
}
