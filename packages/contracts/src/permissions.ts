import { jetStreamApiSubjects, streamPublishSubjects } from './jetstream-access.js';
import { STREAMS } from './streams.js';
import { EVENT_FAMILIES, HEARTBEATS, SERVICE_NAMES, SUBJECTS, permissionSubject, type ServiceName, type SubjectKey } from './subjects.js';

/** What one service's NATS user may do, derived from the catalogue. */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** May publish to the reply subject of a request it received (it serves requests). */
  allowResponses: boolean;
}

/** Each service's replies arrive under its own inbox prefix, so no user can read another's replies. */
export const inboxPrefix = (service: string): string => `_INBOX.${service}`;

export function natsPermissions(service: ServiceName): NatsPermissions {
  const requests = Object.values(SUBJECTS);
  const keys = Object.keys(SUBJECTS) as SubjectKey[];
  const calls = keys.filter((k) => SUBJECTS[k].calledBy.includes(service)).map(permissionSubject);
  const serves = keys.filter((k) => SUBJECTS[k].servedBy === service).map(permissionSubject);
  const subscribed = [...EVENT_FAMILIES, HEARTBEATS].filter((f) => f.subscribers.includes(service)).map((f) => f.pattern);
  const beats = HEARTBEATS.publishers.includes(service) ? [HEARTBEATS.pattern] : [];
  // Into JetStream streams, and the JetStream API calls of managers, readers and consumers (jetstream-access.ts).
  const published = streamPublishSubjects(service);
  const jsApi = jetStreamApiSubjects(service);
  // Streams: the opener sends control messages; the server publishes output to the opener's inbox.
  const streamOpens = requests.filter((r) => (STREAMS.openedBy as readonly string[]).includes(r.subject));
  const opensStreams = streamOpens.some((r) => r.calledBy.includes(service));
  const servesStreams = streamOpens.some((r) => r.servedBy === service);
  const streamInboxes = servesStreams ? [...new Set(streamOpens.flatMap((r) => r.calledBy))].map((c) => `${inboxPrefix(c)}.>`) : [];
  const publish = [...calls, ...beats, ...published, ...jsApi, ...(opensStreams ? [STREAMS.control.pattern] : []), ...streamInboxes];
  // Replies to requests, JetStream publish acks, API answers and pulled messages all come back to the inbox.
  const needsInbox = calls.length > 0 || published.length > 0 || jsApi.length > 0;
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
