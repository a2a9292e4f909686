import type { OutputChunk } from './driver/exec-process.js';

/** Milliseconds on a clock that only goes forward (performance.now, or a test's fake). */
export type Clock = () => number;

/**
 * A token bucket of bytes: `burst` bytes at once, refilled at `bytesPerSecond`. A read is charged
 * after it happened (a chunk's size is not known before), so the bucket may go into debt by one
 * read; the next read waits until the debt is paid.
 */
export class ByteBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burst: number,
    private readonly now: Clock = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  charge(bytes: number): void {
    this.refill();
    this.tokens -= bytes;
  }

  /** How long until the next read may go ahead (0: now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
  }

  /** Whether it is back to a whole burst (then it is no different from a new bucket). */
  full(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.bytesPerSecond) / 1000);
    this.last = t;
  }
}

/** Buckets kept before full ones (idle workspaces, gone ones) are dropped. */
const SWEEP_AT = 256;
/** Waits `ms`, or less when `signal` aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Every workspace's output budget: all bytes pool-manager reads from any of a workspace's commands
 * (exec, streaming exec, terminal, setup; agent or `docker exec`) are charged to one bucket, and
 * once it is empty the next read waits. Nothing is dropped: the unread output stays in the socket
 * and pipe, so the command blocks on its writes (backpressure). Enforced here, not in the agent,
 * because a workspace can replace its agent.
 */
export class OutputBudgets {
  private readonly buckets = new Map<string, ByteBucket>();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burst: number,
    private readonly now: Clock = () => performance.now(),
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<unknown> = sleep,
  ) {}

  /**
   * `output`, read no faster than workspace `id`'s budget allows. Once `killed` (timeout, cancel,
   * stop), what is left is read only while the budget allows it at once, then let go: a killed
   * flood's buffered rest (Docker keeps megabytes) is not worth waiting for.
   */
  async *throttle(id: string, output: AsyncIterable<OutputChunk>, killed?: AbortSignal): AsyncGenerator<OutputChunk> {
    const source = output[Symbol.asyncIterator]();
    try {
      for (;;) {
        // Each read (a new command's first one too) waits while the workspace's budget is in debt.
        for (let ms = this.bucketOf(id).waitMs(); ms > 0; ms = this.bucketOf(id).waitMs()) {
          if (killed?.aborted) return;
          await this.wait(ms, killed);
        }
        const next = await source.next();
        if (next.done) return;
        this.bucketOf(id).charge(next.value.data.length);
        yield next.value;
      }
    } finally {
      // Stopped early (a cap, a kill): the command's stream is let go, which ends the command too.
      await source.return?.();
    }
  }

  private bucketOf(id: string): ByteBucket {
    let bucket = this.buckets.get(id);
    if (!bucket) {
      if (this.buckets.size >= SWEEP_AT) for (const [key, b] of this.buckets) if (b.full()) this.buckets.delete(key);
      bucket = new ByteBucket(this.bytesPerSecond, this.burst, this.now);
      this.buckets.set(id, bucket);
    }
    return bucket;
  }
}
