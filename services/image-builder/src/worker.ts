import { BUILDS, type ImageBuildRequest } from '@berth/contracts';
import type { Logger } from '@berth/service-kit';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { BuildOutcome } from './builder.js';
import type { BuilderMetrics, CountedOutcome } from './metrics.js';
import { KeyedScheduler } from './scheduler.js';

/** What the worker needs of a builder (Builder; a fake in unit tests). */
export interface BuildRunner {
  build(req: ImageBuildRequest, signal: AbortSignal): Promise<BuildOutcome>;
}

export interface WorkerOptions {
  concurrency: number;
  maxAttempts: number;
  retryDelayMs: number;
  ackWaitMs: number;
  /** How long one pull waits for a message (bounds how long stop() waits for the loop). */
  pullExpiresMs?: number;
  /** After each successful build (image GC). */
  afterBuild: () => Promise<void>;
}

interface Job {
  key: string;
  req: ImageBuildRequest;
  msg: JsMsg;
  heartbeat: NodeJS.Timeout;
  started: number;
}

/**
 * Pulls build requests from this host's BUILDS consumer and runs them one at a time per repo.
 * Every request is settled once: acked when done, refused, superseded or out of attempts; nak'd
 * with a growing delay after a failure; nak'd at once when the service stops mid-build.
 */
export class BuildWorker {
  private readonly scheduler: KeyedScheduler<Job>;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly consumer: Pick<Consumer, 'next'>,
    private readonly builder: BuildRunner,
    private readonly metrics: BuilderMetrics,
    private readonly opts: WorkerOptions,
    private readonly logger: Logger,
  ) {
    this.scheduler = new KeyedScheduler<Job>(
      opts.concurrency,
      (job) => this.run(job),
      (old, by) => {
        this.logger.info({ repo: old.req.repo, sha: old.req.sha, by: by.req.sha }, 'build request superseded by a newer one');
        this.settle(old, 'superseded', () => old.msg.ack());
      },
    );
  }

  start(): void {
    this.loop = this.pull();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.scheduler.idle();
  }

  private async pull(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.scheduler.room();
      if (signal.aborted) break;
      let msg: JsMsg | null;
      try {
        msg = await this.consumer.next({ expires: this.opts.pullExpiresMs ?? 2_000 });
      } catch (err) {
        if (signal.aborted) break;
        this.logger.warn({ err }, 'pulling build requests failed; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (!msg) continue;
      if (signal.aborted) {
        msg.nak();
        break;
      }
      this.accept(msg);
    }
  }

  private accept(msg: JsMsg): void {
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      body = undefined;
    }
    const parsed = BUILDS.schema.safeParse(body);
    if (!parsed.success) {
      this.logger.warn({ subject: msg.subject }, 'dropped an invalid build request');
      this.metrics.builds.inc({ outcome: 'invalid' });
      msg.ack();
      return;
    }
    const heartbeat = setInterval(() => this.safely(() => msg.working()), Math.max(500, Math.floor(this.opts.ackWaitMs / 3)));
    this.metrics.running.inc();
    this.scheduler.submit({ key: parsed.data.repo.toLowerCase(), req: parsed.data, msg, heartbeat, started: Date.now() });
  }

  private async run(job: Job): Promise<void> {
    try {
      const outcome = await this.builder.build(job.req, this.abort.signal);
      this.settle(job, outcome, () => job.msg.ack());
      if (outcome === 'built') await this.opts.afterBuild().catch((err: unknown) => this.logger.warn({ err }, 'image GC failed'));
    } catch (err) {
      const attempt = job.msg.info.deliveryCount;
      if (this.abort.signal.aborted) {
        this.settle(job, 'aborted', () => job.msg.nak());
      } else if (attempt >= this.opts.maxAttempts) {
        this.logger.error({ err, repo: job.req.repo, sha: job.req.sha, attempt }, 'main image build failed; giving up');
        this.settle(job, 'failed', () => job.msg.ack());
      } else {
        this.logger.warn({ err, repo: job.req.repo, sha: job.req.sha, attempt }, 'main image build failed; will retry');
        this.settle(job, 'retry', () => job.msg.nak(this.opts.retryDelayMs * attempt));
      }
    }
  }

  /** An ack or progress report on a closed connection is lost; the request is redelivered after the ack wait. */
  private safely(send: () => void): void {
    try {
      send();
    } catch (err) {
      this.logger.warn({ err }, 'could not reply to JetStream');
    }
  }

  private settle(job: Job, outcome: CountedOutcome, reply: () => void): void {
    clearInterval(job.heartbeat);
    this.safely(reply);
    this.metrics.running.dec();
    this.metrics.builds.inc({ outcome });
    this.metrics.duration.observe({ outcome }, (Date.now() - job.started) / 1000);
  }
}
