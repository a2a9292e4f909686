import { EVENTS, type ContainerEvent, type ContainerEventKind } from '@berth/contracts';
import type { Logger, NatsConnection } from '@berth/service-kit';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';

export interface EventPublisher {
  publish(id: string, kind: ContainerEventKind, pool: string, reason?: string, extra?: EventExtra): void;
}

/** Fields only some events carry: `owner` once a caller has the container, `reapAt` on idle-warning. */
export type EventExtra = Pick<ContainerEvent, 'owner' | 'reapAt'>;

const encoder = new TextEncoder();
const REPEATABLE: ReadonlySet<ContainerEventKind> = new Set(['paused', 'resumed']);

/** Lifecycle events into the EVENTS stream; `Nats-Msg-Id` makes a republish after a crash harmless. */
export class JetStreamEvents implements EventPublisher {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly hostId: string,
    private readonly logger: Logger,
  ) {}

  static async start(nc: NatsConnection, hostId: string, logger: Logger): Promise<JetStreamEvents> {
    const jsm = await jetstreamManager(nc);
    const config = { name: EVENTS.stream, subjects: [...EVENTS.subjects], max_age: 7 * 24 * 3600 * 1e9, duplicate_window: 120 * 1e9 };
    try {
      await jsm.streams.info(EVENTS.stream);
    } catch {
      await jsm.streams.add(config);
    }
    return new JetStreamEvents(jetstream(nc), hostId, logger);
  }

  publish(id: string, kind: ContainerEventKind, pool: string, reason?: string, extra: EventExtra = {}): void {
    const event: ContainerEvent = { id, kind, pool, hostId: this.hostId, at: new Date().toISOString(), ...(reason && { reason }), ...(extra.owner && { owner: extra.owner }), ...(extra.reapAt && { reapAt: extra.reapAt }) };
    // A workspace is warned once per idle spell: the deadline tells one spell's warning from the next.
    // A workspace pauses and resumes many times: each of those events is its own.
    const msgID = extra.reapAt ? `${id}.${kind}.${extra.reapAt}` : REPEATABLE.has(kind) ? `${id}.${kind}.${event.at}` : `${id}.${kind}`;
    this.js
      .publish(EVENTS.container.subject(id, kind), encoder.encode(JSON.stringify(EVENTS.container.schema.parse(event))), { msgID })
      .catch((err: unknown) => this.logger.warn({ err, id, kind }, 'event not published'));
  }
}

export const noEvents: EventPublisher = { publish: () => undefined };
