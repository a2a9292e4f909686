import { randomInt } from 'node:crypto';

/** A seeded PRNG (mulberry32): the same seed replays the same requests. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A seed from FUZZ_SEED if set (to replay a failure), else a fresh one. */
  static fromEnv(env: Record<string, string | undefined> = process.env): Rng {
    const given = env.FUZZ_SEED;
    return new Rng(given !== undefined && /^\d+$/.test(given) ? Number(given) : randomInt(2 ** 31));
  }

  /** [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }
}
