import { EVENTS, type ContainerEvent, type ContainerEventKind } from '@berth/contracts';
import type { Logger, NatsConnection } from '@berth/service-kit';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';

/** `owner` once a caller has the container; `reason` for removed and failed. */
export interface EventFacts {
  owner?: string;
  reason?: string;
}

export interface EventPublisher {
  publish(id: string, kind: ContainerEventKind, pool: string, facts?: EventFacts): void;
}

const encoder = new TextEncoder();

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

  publish(id: string, kind: ContainerEventKind, pool: string, { owner, reason }: EventFacts = {}): void {
    const event: ContainerEvent = { id, kind, pool, hostId: this.hostId, at: new Date().toISOString(), ...(owner && { owner }), ...(reason && { reason }) };
    this.js
      .publish(EVENTS.container.subject(id, kind), encoder.encode(JSON.stringify(EVENTS.container.schema.parse(event))), { msgID: `${id}.${kind}` })
      .catch((err: unknown) => this.logger.warn({ err, id, kind }, 'event not published'));
  }
}

export const noEvents: EventPublisher = { publish: () => undefined };
