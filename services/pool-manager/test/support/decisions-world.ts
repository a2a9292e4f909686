import { randomBytes } from 'node:crypto';
import type { ContainerEventKind } from '@berth/contracts';
import { createLogger, createRedis, type Redis } from '@berth/service-kit';
import { loadPoolManagerConfig } from '../../src/config.js';
import { WorkloadNames } from '../../src/driver/workload-names.js';
import type { EventPublisher } from '../../src/events.js';
import { hostFromConfig } from '../../src/host.js';
import { hostWorkspaces } from '../../src/host-workspaces.js';
import type { LlmEgress } from '../../src/llm/egress-client.js';
import { LlmKeys } from '../../src/llm/llm-keys.js';
import { WorkspaceStore } from '../../src/state/workspace-store.js';
import { FakeDriver } from './fake-driver.js';

const IMAGE = 'berth/workspace:fake';
const logger = createLogger('decisions', 'silent');
const offlineEgress: LlmEgress = { register: async () => undefined, revoke: async () => undefined, sync: async () => undefined };

/**
 * pool-manager's decision-making objects of one host over a FakeDriver and a real Redis (the claim,
 * reserve and stop decisions are Lua scripts there): no engine, no NATS. Each world is a fresh host.
 */
export async function decisionsWorld(redisUrl: string, env: Record<string, string> = {}) {
  const config = loadPoolManagerConfig({
    BERTH_HOST_ID: `u-${randomBytes(4).toString('hex')}`,
    REDIS_URL: redisUrl,
    POOLS: JSON.stringify([{ name: 'default', image: IMAGE, targetSize: 3, minSize: 1, maxCreating: 2, memoryMb: 64 }]),
    WORKSPACE_IMAGE: IMAGE,
    WORKSPACE_NAME_KEY: 'k'.repeat(32),
    PORT_RANGE: '30000-30099',
    START_CHECK_MS: '0',
    REFILL_DELAY_MS: '0',
    CREATE_GRACE_MS: '1000',
    AGENTS_ENABLED: 'false',
    EVENTS_ENABLED: 'false',
    LLM_EGRESS_URL: 'none',
    NPM_CACHE_VOLUME: 'none',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const host = hostFromConfig(config);
  const redis: Redis = createRedis({ url: redisUrl, name: 'decisions', logger });
  const store = new WorkspaceStore(redis, host.id);
  await store.acquireEpoch();
  const driver = new FakeDriver([IMAGE]);
  const events: { id: string; kind: ContainerEventKind; reason?: string | undefined }[] = [];
  const publisher: EventPublisher = {
    publish: (id, kind, _pool, reason) => {
      events.push({ id, kind, reason });
    },
  };
  const names = new WorkloadNames(config.WORKSPACE_NAME_KEY!);
  const llm = new LlmKeys(undefined, offlineEgress, store, { egressUrl: '', hostId: host.id }, logger);
  const parts = hostWorkspaces({ config, host, driver, store, events: publisher, llm, names, logger });
  return {
    ...parts,
    config,
    host,
    redis,
    store,
    driver,
    events,
    names,
    /** Waits until no pool fill is running (fills run in the background after a kick). */
    settle: async () => {
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 10));
        const creating = (await store.all()).some((r) => r.state === 'creating');
        if (!creating && !parts.filler.busy) return;
      }
      throw new Error('pool fill did not settle');
    },
    /** Forgets every record of this host, as after a Redis loss. */
    loseRedis: async () => {
      const keys = await redis.keys(`${store.keys.prefix}*`);
      if (keys.length) await redis.del(...keys);
      await store.acquireEpoch();
    },
    close: async () => {
      await parts.filler.stop();
      parts.claims.close();
      await redis.quit();
    },
  };
}

export type DecisionsWorld = Awaited<ReturnType<typeof decisionsWorld>>;
