import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectNats, createLogger, drainNats, Redis, type NatsConnection } from '@berth/service-kit';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../test/support/local-stack.js';
import { JsonClient } from './http-client.js';

/** What a profile bench measures its layers with: the stack, an HTTP client, NATS bound to its host with an echo, Redis. */
export interface ProfileRig {
  stack: LocalStack;
  client: JsonClient;
  nc: NatsConnection;
  redis: Redis;
  /** BENCH_CPU_PROF, resolved: where every service wrote its V8 CPU profile (undefined: none). */
  cpuProfiles: string | undefined;
  /** A NATS request/reply to the echo in this process: the transport alone. */
  bus(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts a local stack for a profile bench. With BENCH_CPU_PROF=<dir> every service process it
 * starts writes a V8 CPU profile there (NODE_OPTIONS is set only while they start).
 */
export async function startProfileRig(name: string, poolEnv: Record<string, string>, opts: LocalStackOptions = {}): Promise<ProfileRig> {
  const profDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
  const nodeOptions = process.env.NODE_OPTIONS;
  if (profDir) {
    mkdirSync(profDir, { recursive: true });
    process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim();
  }
  let stack: LocalStack;
  try {
    stack = await startLocalStack(poolEnv, 'warn', opts);
  } finally {
    if (profDir) {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
    }
  }
  const client = new JsonClient(stack.url, stack.token);
  const nc = await connectNats({ url: stack.nats.url, name, hostId: stack.hostId, logger: createLogger('bench', 'warn') });
  const redis = new Redis(stack.redis.url);
  const echo = nc.subscribe(`${name}.echo`, {
    callback: (_err, m) => {
      m.respond(m.data);
    },
  });
  return {
    stack,
    client,
    nc,
    redis,
    cpuProfiles: profDir,
    bus: () => nc.request(`${name}.echo`, new Uint8Array(200), { timeout: 10_000 }),
    stop: async () => {
      echo.unsubscribe();
      redis.disconnect();
      await drainNats(nc);
      client.close();
      await stack.stop();
    },
  };
}
