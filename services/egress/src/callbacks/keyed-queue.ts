/**
 * Runs items one at a time per key, in `order`, with at most `concurrency` keys running at once.
 * A key's next item starts only after its previous one finished, so a slow or failing key never
 * reorders its own items and never blocks another key beyond the shared concurrency.
 */
export class KeyedQueue<T> {
  private readonly queues = new Map<string, T[]>();
  private readonly running = new Set<string>();
  /** Keys with queued items waiting for a free slot, oldest first. */
  private readonly waiting: string[] = [];
  private held = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly concurrency: number,
    private readonly run: (key: string, item: T) => Promise<void>,
    private readonly order: (a: T, b: T) => number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Items queued or running. */
  get size(): number {
    return this.held;
  }

  push(key: string, item: T): void {
    const q = this.queues.get(key) ?? [];
    // Insert in order (items almost always arrive in order: this is a scan from the end).
    let i = q.length;
    while (i > 0 && this.order(q[i - 1]!, item) > 0) i--;
    q.splice(i, 0, item);
    this.held++;
    if (!this.queues.has(key)) {
      this.queues.set(key, q);
      if (!this.running.has(key)) this.waiting.push(key);
    }
    this.pump();
  }

  /** Starts nothing new; items already running finish. */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when nothing is running (queued items stay queued after stop()). */
  async idle(): Promise<void> {
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift()!;
      this.running.add(key);
      void this.drain(key);
    }
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const q = this.queues.get(key);
      const item = q?.shift();
      if (item === undefined || this.stopped) {
        if (item !== undefined) q!.unshift(item);
        if (q && q.length === 0) this.queues.delete(key);
        break;
      }
      try {
        await this.run(key, item);
      } catch (err) {
        this.onError(err);
      }
      this.held--;
    }
    this.running.delete(key);
    if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    this.pump();
  }
}
