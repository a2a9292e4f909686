import { describe, expect, it } from 'vitest';
import { tailStartSeq } from '../src/logs/tail.js';

/** A stream where `ours[i]` says whether sequence i+1 is one of the container's lines. */
function streamOf(ours: boolean[]) {
  let probes = 0;
  const pendingFrom = async (seq: number) => {
    probes += 1;
    return ours.slice(Math.max(0, seq - 1)).filter(Boolean).length;
  };
  const last = ours.lastIndexOf(true) + 1;
  return { pendingFrom, last, probes: () => probes };
}

/** What tail should start at: the sequence of the container's n-th line from the end. */
function expected(ours: boolean[], n: number): number {
  const seqs = ours.flatMap((o, i) => (o ? [i + 1] : []));
  if (n === 0) return (seqs.at(-1) ?? 0) + 1;
  return seqs.length <= n ? 1 : seqs[seqs.length - n]!;
}

describe('tailStartSeq', () => {
  it('finds the start of the last N lines among other containers’ lines', async () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const ours = Array.from({ length: 1 + Math.floor(rand() * 300) }, () => rand() < 0.3);
      const n = Math.floor(rand() * 40);
      const s = streamOf(ours);
      if (s.last === 0) continue;
      const start = await tailStartSeq(n, s.last, s.pendingFrom);
      // Any start that delivers exactly the last n lines will do (other containers' lines are filtered out).
      const from = (seq: number) => ours.flatMap((o, i) => (o && i + 1 >= seq ? [i + 1] : []));
      expect(from(start), `round ${round}`).toEqual(from(expected(ours, n)));
    }
  });

  it('needs one probe when the container is alone in the stream', async () => {
    const s = streamOf(Array.from({ length: 100_000 }, () => true));
    expect(await tailStartSeq(100, s.last, s.pendingFrom)).toBe(99_901);
    expect(s.probes()).toBe(1);
  });

  it('starts at the beginning when there are fewer lines, and after the end for tail=0', async () => {
    const s = streamOf([false, true, true]);
    expect(await tailStartSeq(10, s.last, s.pendingFrom)).toBe(1);
    expect(await tailStartSeq(0, s.last, s.pendingFrom)).toBe(4);
    expect(await tailStartSeq(5, 0, s.pendingFrom)).toBe(1);
  });
});
