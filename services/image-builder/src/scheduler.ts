/** A unit of work for one key (a repository). */
export interface KeyedJob {
  key: string;
}

/**
 * Runs jobs one at a time per key and at most `limit` held at once (running or waiting). A job
 * that arrives while its key is busy waits; a later one for the same key replaces it (the newest
 * request wins) and the replaced one is handed to `onSuperseded`.
 */
export class KeyedScheduler<J extends KeyedJob> {
  private readonly running = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, J>();
  private wakers: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly run: (job: J) => Promise<void>,
    private readonly onSuperseded: (old: J, by: J) => void,
  ) {}

  get held(): number {
    return this.running.size + this.waiting.size;
  }

  get runningKeys(): string[] {
    return [...this.running.keys()];
  }

  /** Resolves once another job may be submitted. */
  async room(): Promise<void> {
    while (this.held >= this.limit) await new Promise<void>((resolve) => this.wakers.push(resolve));
  }

  submit(job: J): void {
    if (!this.running.has(job.key)) {
      this.start(job);
      return;
    }
    const old = this.waiting.get(job.key);
    this.waiting.set(job.key, job);
    if (old) this.onSuperseded(old, job);
  }

  /** Resolves when nothing runs or waits. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private start(job: J): void {
    const done = this.run(job)
      .catch(() => undefined)
      .finally(() => {
        this.running.delete(job.key);
        const next = this.waiting.get(job.key);
        if (next) {
          this.waiting.delete(job.key);
          this.start(next);
        }
        const wakers = this.wakers;
        this.wakers = [];
        for (const wake of wakers) wake();
      });
    this.running.set(job.key, done);
  }
}
