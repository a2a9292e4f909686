import { BUILDS } from './images.js';
import { LOGS } from './logs.js';
import { EVENT_FAMILIES, EVENTS, type ServiceName } from './subjects.js';

/**
 * Who may do what on each JetStream stream. The NATS users' JetStream permissions are generated
 * from this list (permissions.ts), so a new stream or consumer is one entry here plus
 * `pnpm nats-config`.
 */

/** A durable pull consumer: its owner creates it (idempotently), reads its info, pulls and acknowledges. */
export interface DurableConsumer {
  service: ServiceName;
  /** The durable name, or `*` for one durable per Docker host (`<name>-<hostId>`). */
  durable: string;
  filter: string;
}

export interface StreamAccess {
  stream: string;
  /** Creates, inspects and updates the stream. */
  manager: ServiceName;
  /** Publish into the stream. */
  publishers: readonly { service: ServiceName; subjects: readonly string[] }[];
  /** Read with ordered consumers (ephemeral, unacknowledged: created, pulled and deleted per read). */
  orderedReaders: readonly ServiceName[];
  /** Look up one stored message (the last on a subject). */
  getters: readonly ServiceName[];
  durables: readonly DurableConsumer[];
}

/** Durable consumers services create by name. */
export const CONSUMERS = {
  /** egress delivers setup status callbacks from EVENTS. */
  egressCallbacks: { stream: EVENTS.stream, service: 'egress', durable: 'egress-callbacks', filter: EVENTS.setup.pattern },
} as const satisfies Record<string, DurableConsumer & { stream: string }>;

const durablesOf = (stream: string): DurableConsumer[] => Object.values(CONSUMERS).filter((c) => c.stream === stream);

export const JETSTREAM_ACCESS: readonly StreamAccess[] = [
  {
    stream: EVENTS.stream,
    manager: EVENTS.managedBy,
    publishers: EVENT_FAMILIES.flatMap((f) => f.publishers.map((service) => ({ service, subjects: [f.pattern] }))),
    orderedReaders: [],
    getters: [],
    durables: durablesOf(EVENTS.stream),
  },
  {
    stream: LOGS.stream,
    manager: LOGS.managedBy,
    publishers: LOGS.publishers.map((service) => ({ service, subjects: [LOGS.pattern] })),
    // The gateway's logs route: ordered consumers, and the last line of a container to bound a read.
    orderedReaders: ['gateway'],
    // log-streamer resumes after the last stored line of each container.
    getters: ['gateway', 'log-streamer'],
    durables: [],
  },
  {
    // A work queue: one durable per Docker host (`image-builder-<hostId>`, filtered on its host's subject).
    stream: BUILDS.stream,
    manager: BUILDS.managedBy,
    publishers: BUILDS.publishers.map((service) => ({ service, subjects: [BUILDS.pattern] })),
    orderedReaders: [],
    getters: [],
    durables: BUILDS.consumers.map((service) => ({ service, durable: '*', filter: BUILDS.pattern })),
  },
];

/** The JetStream API subjects a service may publish to (requests to the API, and acks), in a stable order. */
export function jetStreamApiSubjects(service: ServiceName): string[] {
  const out: string[] = [];
  for (const a of JETSTREAM_ACCESS) {
    const s = a.stream;
    const durables = a.durables.filter((d) => d.service === service);
    if (a.manager === service || durables.length > 0) out.push('$JS.API.INFO');
    if (a.manager === service) out.push(`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`, `$JS.API.STREAM.UPDATE.${s}`);
    if (a.orderedReaders.includes(service)) {
      out.push(
        `$JS.API.STREAM.INFO.${s}`,
        `$JS.API.CONSUMER.CREATE.${s}`,
        `$JS.API.CONSUMER.CREATE.${s}.>`,
        `$JS.API.CONSUMER.INFO.${s}.*`,
        `$JS.API.CONSUMER.MSG.NEXT.${s}.*`,
        `$JS.API.CONSUMER.DELETE.${s}.*`,
      );
    }
    if (a.getters.includes(service)) out.push(`$JS.API.STREAM.MSG.GET.${s}`);
    for (const { durable: d } of durables) {
      // nats.js creates with the 2.9 form (name and filter in the subject), older clients with DURABLE.CREATE.
      out.push(
        `$JS.API.CONSUMER.CREATE.${s}.${d}`,
        `$JS.API.CONSUMER.CREATE.${s}.${d}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${s}.${d}`,
        `$JS.API.CONSUMER.INFO.${s}.${d}`,
        `$JS.API.CONSUMER.MSG.NEXT.${s}.${d}`,
        `$JS.ACK.${s}.${d}.>`,
      );
    }
  }
  return [...new Set(out)];
}

/** Subjects a service publishes into streams. */
export const streamPublishSubjects = (service: ServiceName): string[] => [
  ...new Set(JETSTREAM_ACCESS.flatMap((a) => a.publishers.filter((p) => p.service === service).flatMap((p) => p.subjects))),
];
