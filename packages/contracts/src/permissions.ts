import { BUILDS } from './images.js';
import { STREAMS } from './streams.js';
import { EVENTS, SERVICE_NAMES, SUBJECTS, type ServiceName } from './subjects.js';

/** What one service's NATS user may do, derived from the catalogue. */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** May publish to the reply subject of a request it received (it serves requests). */
  allowResponses: boolean;
}

/** Each service's replies arrive under its own inbox prefix, so no user can read another's replies. */
export const inboxPrefix = (service: string): string => `_INBOX.${service}`;

/** The JetStream API calls the manager of a stream makes: account info, stream info and create. */
export const streamApiSubjects = (stream: string): string[] => ['$JS.API.INFO', `$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.CREATE.${stream}`];

/**
 * The JetStream API calls of a work-queue consumer: create (both the 2.9+ and the legacy durable
 * form), info, pull the next message, and acknowledge (ack, nak, in-progress) on its own stream.
 */
export const consumerApiSubjects = (stream: string): string[] => [
  `$JS.API.CONSUMER.CREATE.${stream}.>`, `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`, `$JS.API.CONSUMER.INFO.${stream}.*`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`, `$JS.ACK.${stream}.>`,
];

export function natsPermissions(service: ServiceName): NatsPermissions {
  const requests = Object.values(SUBJECTS);
  const calls = requests.filter((r) => r.calledBy.includes(service)).map((r) => r.subject);
  const serves = requests.filter((r) => r.servedBy === service).map((r) => r.subject);
  const families = [EVENTS.container, EVENTS.setup];
  const published: string[] = families.filter((f) => f.publishers.includes(service)).map((f) => f.pattern);
  const subscribed = families.filter((f) => f.subscribers.includes(service)).map((f) => f.pattern);
  const queues = [BUILDS];
  published.push(...queues.filter((q) => q.publishers.includes(service)).map((q) => q.pattern));
  const publishesEvents = published.length > 0;
  const managed = [EVENTS, ...queues].filter((s) => s.managedBy === service).map((s) => s.stream);
  const consumed = queues.filter((q) => q.consumers.includes(service)).map((q) => q.stream);
  const managesStream = managed.length > 0 || consumed.length > 0;
  // Streams: the opener sends control messages; the server publishes output to the opener's inbox.
  const streamOpens = requests.filter((r) => (STREAMS.openedBy as readonly string[]).includes(r.subject));
  const opensStreams = streamOpens.some((r) => r.calledBy.includes(service));
  const servesStreams = streamOpens.some((r) => r.servedBy === service);
  const streamInboxes = servesStreams ? [...new Set(streamOpens.flatMap((r) => r.calledBy))].map((c) => `${inboxPrefix(c)}.>`) : [];
  const publish = [...new Set([...calls, ...published, ...managed.flatMap(streamApiSubjects), ...consumed.flatMap(consumerApiSubjects),
    ...(opensStreams ? [STREAMS.control.pattern] : []), ...streamInboxes])];
  // Replies to requests, JetStream publish acks and API answers all come back to the inbox.
  const needsInbox = calls.length > 0 || publishesEvents || managesStream;
  const subscribe = [...serves, ...(servesStreams ? [STREAMS.control.pattern] : []), ...subscribed, ...(needsInbox ? [`${inboxPrefix(service)}.>`] : [])];
  return { publish, subscribe, allowResponses: serves.length > 0 };
}

/** Services that appear in the catalogue, so they get a NATS user. */
export function natsServices(): ServiceName[] {
  return SERVICE_NAMES.filter((s) => {
    const p = natsPermissions(s);
    return p.publish.length > 0 || p.subscribe.length > 0;
  });
}

/** Environment variable holding a service's NATS password, e.g. NATS_PASSWORD_POOL_MANAGER. */
export const natsPasswordVar = (service: ServiceName): string => `NATS_PASSWORD_${service.toUpperCase().replaceAll('-', '_')}`;
