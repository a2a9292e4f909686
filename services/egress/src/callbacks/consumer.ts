import { CONSUMERS, EVENTS, type SetupStatus } from '@berth/contracts';
import type { Logger, NatsConnection } from '@berth/service-kit';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { sleep, type Outcome } from './deliverer.js';
import { KeyedQueue } from './keyed-queue.js';

export const CONSUMER_NAME = CONSUMERS.egressCallbacks.durable;

export interface ConsumerOptions {
  ackWaitMs: number;
  maxPending: number;
  concurrency: number;
  deliver: (status: SetupStatus, signal: AbortSignal) => Promise<Outcome>;
  onOutcome: (outcome: Outcome | 'invalid') => void;
}

interface Held {
  status: SetupStatus;
  msg: JsMsg;
}

const ms = (n: number) => n * 1_000_000;

/**
 * The durable pull consumer `egress-callbacks` on EVENTS (setup statuses only). A status is
 * acked only once delivered, given up or skipped; until then its ack wait is extended, so a
 * crash leaves it pending and JetStream hands it out again. Order per workspace is kept by a
 * KeyedQueue; after a restart with statuses still pending from the previous run, delivery starts
 * only once their ack wait has passed, because JetStream then hands those out before newer ones.
 */
export class CallbackConsumer {
  private readonly abort = new AbortController();
  private readonly held = new Map<number, Held>();
  private readonly queue: KeyedQueue<Held>;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: ConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.queue = new KeyedQueue<Held>(
      opts.concurrency,
      (_id, h) => this.handle(h),
      (a, b) => a.msg.seq - b.msg.seq,
      (err) => logger.error({ err }, 'callback delivery failed'),
    );
  }

  get pending(): number {
    return this.held.size;
  }

  start(): void {
    this.heartbeat = setInterval(
      () => {
        for (const h of this.held.values()) h.msg.working();
      },
      Math.max(200, this.opts.ackWaitMs / 3),
    );
    this.loop = this.run().catch((err: unknown) => this.logger.error({ err }, 'callback consumer stopped'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.stop();
    clearInterval(this.heartbeat);
    await this.loop;
    await this.queue.idle();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const jsm = await jetstreamManager(this.nc, { checkAPI: false }); // no $JS.API.INFO: fewer permissions needed
    for (let first = true; !signal.aborted; first = false) {
      // Again after any pull failure: the consumer or the whole stream may have been deleted and recreated.
      const pending = await this.ensureConsumer(jsm, signal);
      if (pending === undefined) return;
      if (first && pending > 0) {
        this.logger.info({ pending, waitMs: this.opts.ackWaitMs }, 'statuses pending from a previous run: waiting for their redelivery');
        if (!(await sleep(this.opts.ackWaitMs + 1_000, signal))) return;
      }
      await this.pull(signal);
      await sleep(1_000, signal);
    }
  }

  /** Fetches statuses into the queue, never holding more than maxPending; returns on the first failure. */
  private async pull(signal: AbortSignal): Promise<void> {
    try {
      const consumer = await jetstream(this.nc).consumers.get(EVENTS.stream, CONSUMER_NAME);
      while (!signal.aborted) {
        const room = this.opts.maxPending - this.held.size;
        if (room <= 0) {
          await sleep(100, signal);
          continue;
        }
        const batch = await consumer.fetch({ max_messages: Math.min(room, 256), expires: 2_000 });
        const onAbort = () => void batch.close();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          for await (const m of batch) this.accept(m);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }
    } catch (err) {
      if (!signal.aborted) this.logger.warn({ err: (err as Error).message }, 'fetching setup statuses failed; retrying');
    }
  }

  /** Waits for pool-manager's EVENTS stream, then creates or updates the consumer. Returns its pending count. */
  private async ensureConsumer(jsm: JetStreamManager, signal: AbortSignal): Promise<number | undefined> {
    const config = {
      durable_name: CONSUMER_NAME,
      filter_subject: EVENTS.setup.pattern,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ms(this.opts.ackWaitMs),
      max_ack_pending: this.opts.maxPending,
    };
    for (let warned = false; !signal.aborted;) {
      try {
        const info = await jsm.consumers.info(EVENTS.stream, CONSUMER_NAME).catch(async (err: unknown) => {
          if (!/consumer not found/i.test((err as Error).message)) throw err;
          return jsm.consumers.add(EVENTS.stream, config);
        });
        if (info.config.ack_wait !== config.ack_wait || info.config.max_ack_pending !== config.max_ack_pending) {
          await jsm.consumers.update(EVENTS.stream, CONSUMER_NAME, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
        }
        return info.num_ack_pending;
      } catch (err) {
        if (!warned) this.logger.warn({ err: (err as Error).message }, 'waiting for the EVENTS stream (pool-manager creates it)');
        warned = true;
        await sleep(1_000, signal);
      }
    }
    return undefined;
  }

  private accept(m: JsMsg): void {
    const known = this.held.get(m.seq);
    if (known) {
      known.msg = m; // redelivered while still held: answer the newest delivery
      return;
    }
    let status: SetupStatus;
    try {
      status = EVENTS.setup.schema.parse(m.json());
      if (m.subject !== EVENTS.setup.subject(status.id)) throw new Error('subject does not match the status');
    } catch (err) {
      this.logger.warn({ subject: m.subject, seq: m.seq, err: (err as Error).message }, 'invalid setup status skipped');
      this.opts.onOutcome('invalid');
      m.ack();
      return;
    }
    const h = { status, msg: m };
    this.held.set(m.seq, h);
    this.queue.push(status.id, h);
  }

  private async handle(h: Held): Promise<void> {
    const outcome = await this.opts.deliver(h.status, this.abort.signal);
    if (outcome === 'stopped') return; // left pending: redelivered after the ack wait
    h.msg.ack();
    this.held.delete(h.msg.seq);
    this.opts.onOutcome(outcome);
  }
}
