import { BUILDS } from '@berth/contracts';
import { ensureStream } from '@berth/service-kit';
import { AckPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';

const NANOS = 1_000_000;
const notFound = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/**
 * Creates the BUILDS work-queue stream when missing; of an existing one only the replicas are
 * brought to `replicas` (its other settings are left as whoever made it left them).
 */
export async function ensureBuildsStream(jsm: JetStreamManager, maxAgeSeconds: number, replicas = 1): Promise<void> {
  await ensureStream(
    jsm,
    {
      name: BUILDS.stream,
      subjects: [...BUILDS.subjects],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      max_age: maxAgeSeconds * 1000 * NANOS,
      duplicate_window: Math.min(120, maxAgeSeconds) * 1000 * NANOS,
    },
    { num_replicas: replicas },
  );
}

/**
 * This host's durable pull consumer, filtered to its own subject (work-queue consumers must not
 * overlap). Retries are counted by the service (it acks a request after the last attempt), so the
 * server redelivers without limit.
 */
export async function ensureBuildsConsumer(jsm: JetStreamManager, hostId: string, ackWaitMs: number): Promise<string> {
  const name = BUILDS.durable(hostId);
  const ack_wait = ackWaitMs * NANOS;
  try {
    const info = await jsm.consumers.info(BUILDS.stream, name);
    if (info.config.ack_wait !== ack_wait) await jsm.consumers.update(BUILDS.stream, name, { ack_wait });
  } catch (err) {
    if (!notFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(BUILDS.stream, {
      durable_name: name,
      filter_subject: BUILDS.subject(hostId),
      ack_policy: AckPolicy.Explicit,
      ack_wait,
      max_deliver: -1,
      max_ack_pending: 1000,
    });
  }
  return name;
}
