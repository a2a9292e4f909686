import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';

const notFound = (err: unknown) => err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;

/**
 * Creates `create.name` when missing; when it exists, brings only the `enforce` fields to their
 * values by an update (JetStream changes replicas and limits in place, keeping every message),
 * leaving the rest of its configuration as whoever made it left it. A concurrent creator that
 * wins the race is fine: the stream then exists and is updated like any other.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  create: Partial<StreamConfig> & { name: string },
  enforce: Partial<StreamConfig> = {},
): Promise<void> {
  let info = await streamInfo(jsm, create.name);
  if (info === undefined) {
    try {
      await jsm.streams.add({ ...create, ...enforce });
      return;
    } catch (addErr) {
      // Another service made it first (perhaps with other settings): update that one.
      info = await streamInfo(jsm, create.name).catch(() => undefined);
      if (info === undefined) throw addErr;
    }
  }
  const current = info.config as unknown as Record<string, unknown>;
  const differs = Object.entries(enforce).some(([key, value]) => current[key] !== value);
  if (differs) await jsm.streams.update(create.name, { ...info.config, ...enforce });
}

const streamInfo = (jsm: JetStreamManager, name: string) =>
  jsm.streams.info(name).catch((err: unknown) => {
    if (!notFound(err)) throw err;
    return undefined;
  });
