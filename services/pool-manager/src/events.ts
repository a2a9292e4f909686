import { EVENTS, type ContainerEvent, type ContainerEventKind } from '@berth/contracts';
import { ensureStream, publishAcked, type Logger, type NatsConnection } from '@berth/service-kit';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';

export interface EventPublisher {
  publish(id: string, kind: ContainerEventKind, pool: string, reason?: string, extra?: EventExtra): void;
}

/**
 * Fields only some events carry: `owner` once a caller has the container, `reapAt` on idle-warning,
 * `hostId` when telling of another host's workspace (a `lost` one).
 */
export type EventExtra = Pick<ContainerEvent, 'owner' | 'reapAt'> & { hostId?: string };

const encoder = new TextEncoder();
const DUPLICATE_WINDOW_S = 120;
/**
 * How long an unacknowledged event is published again (same `Nats-Msg-Id`): through a NATS node's
 * loss or a stream leader's election. Inside the duplicate window, so a retry of a publish that was
 * stored after all (its ack lost) is dropped by the stream instead of stored twice.
 */
const RETRY_FOR_MS = 90_000;

export interface JetStreamEventsOptions {
  /** The stream's replicas (JETSTREAM_REPLICAS): 3 on a three-node cluster. */
  replicas?: number;
  retryForMs?: number;
}
/** Kinds a workspace goes through many times: each such event is its own (no dedup by id and kind). */
const REPEATABLE: ReadonlySet<ContainerEventKind> = new Set(['paused', 'resumed', 'lost', 'recovered']);

/** Lifecycle events into the EVENTS stream; `Nats-Msg-Id` makes a republish after a crash harmless. */
export class JetStreamEvents implements EventPublisher {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly hostId: string,
    private readonly logger: Logger,
    private readonly retryForMs: number,
  ) {}

  static async start(nc: NatsConnection, hostId: string, logger: Logger, opts: JetStreamEventsOptions = {}): Promise<JetStreamEvents> {
    const jsm = await jetstreamManager(nc);
    const config = { name: EVENTS.stream, subjects: [...EVENTS.subjects], max_age: 7 * 24 * 3600 * 1e9, duplicate_window: DUPLICATE_WINDOW_S * 1e9 };
    await ensureStream(jsm, config, { num_replicas: opts.replicas ?? 1 });
    return new JetStreamEvents(nc, jetstream(nc), hostId, logger, Math.min(opts.retryForMs ?? RETRY_FOR_MS, RETRY_FOR_MS));
  }

  publish(id: string, kind: ContainerEventKind, pool: string, reason?: string, extra: EventExtra = {}): void {
    const event: ContainerEvent = {
      id,
      kind,
      pool,
      hostId: extra.hostId ?? this.hostId,
      at: new Date().toISOString(),
      ...(reason && { reason }),
      ...(extra.owner && { owner: extra.owner }),
      ...(extra.reapAt && { reapAt: extra.reapAt }),
    };
    // A workspace is warned once per idle spell: the deadline tells one spell's warning from the next.
    const msgID = extra.reapAt ? `${id}.${kind}.${extra.reapAt}` : REPEATABLE.has(kind) ? `${id}.${kind}.${event.at}` : `${id}.${kind}`;
    void this.send(EVENTS.container.subject(id, kind), encoder.encode(JSON.stringify(EVENTS.container.schema.parse(event))), msgID);
  }

  private async send(subject: string, data: Uint8Array, msgID: string): Promise<void> {
    await publishAcked(this.nc, this.js, subject, data, { msgID, retryForMs: this.retryForMs }).catch((err: unknown) =>
      this.logger.warn({ err, subject, msgID }, 'event not published'),
    );
  }
}

export const noEvents: EventPublisher = { publish: () => undefined };
