import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { VOLUME_LABELS, WORKLOAD_LABELS } from '@berth/contracts';
import { connectNats, createLogger, drainNats, type NatsConnection, type Stopper } from '@berth/service-kit';
import { portRange, startNatsServer, startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import { loadPoolManagerConfig, type PoolManagerConfig } from '../src/config.js';
import { startPoolManager, type PoolManager } from '../src/service.js';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/** The workspace image tests run (WORKSPACE_IMAGE, as base-images.sh and pool-manager read it). */
export const WORKSPACE_IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';

/** A unique host id and port range per test file, so runs never collide on one engine. */
export function testHostEnv(extra: Record<string, string> = {}): Record<string, string> {
  const hostId = `t-${randomBytes(4).toString('hex')}`;
  // Below the kernel's ephemeral range (32768+), so Docker never finds a port taken by a client socket.
  const { lo } = portRange();
  return {
    BERTH_HOST_ID: hostId,
    PORT_RANGE: `${lo}-${lo + 99}`,
    POOLS: JSON.stringify([{ name: 'default', targetSize: 3, minSize: 1, maxCreating: 2, memoryMb: 64, pids: 64 }]),
    RECONCILE_INTERVAL_MS: '60000',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'warn',
    WORKSPACE_IMAGE,
    ...extra,
  };
}

export interface Infra {
  nats: ServerProcess & { url: string };
  redis: ServerProcess & { url: string };
  dispose(): Promise<void>;
}

export async function startInfra(): Promise<Infra> {
  const [nats, redis] = await Promise.all([startNatsServer(), startRedisServer()]);
  return {
    nats,
    redis,
    dispose: async () => {
      await Promise.all([nats.dispose(), redis.dispose()]);
    },
  };
}

export interface RunningPoolManager extends PoolManager {
  config: PoolManagerConfig;
  stop(): Promise<void>;
}

/** pool-manager in this process, against real NATS, Redis and Docker. */
export async function startInProcess(infra: Infra, env: Record<string, string>): Promise<RunningPoolManager> {
  const config = loadPoolManagerConfig({ ...env, NATS_URL: infra.nats.url, REDIS_URL: infra.redis.url });
  const stoppers: Stopper[] = [];
  const pm = await startPoolManager(config, createLogger('pool-manager', config.LOG_LEVEL), (s) => stoppers.push(s));
  return {
    ...pm,
    config,
    stop: async () => {
      for (const s of stoppers.reverse()) await s();
    },
  };
}

/**
 * The test's own NATS client. Requests about no workspace in particular (a create, a list) go to
 * `hostId`'s pool-manager, as the gateway's placement would send them; bindHost() later when the
 * host id is known only after connecting.
 */
export async function clientNats(infra: Infra, hostId?: string): Promise<NatsConnection & { close(): Promise<void> }> {
  const nc = await connectNats({ url: infra.nats.url, name: 'test-client', logger: createLogger('test', 'warn'), ...(hostId !== undefined && { hostId }) });
  return Object.assign(nc, { close: () => drainNats(nc) });
}

export async function containersOf(hostId: string, all = true) {
  return docker.listContainers({ all, filters: { label: [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`] } });
}

export async function removeAllOf(hostId: string): Promise<void> {
  // The agents' socket directories at the default place (tests that set AGENT_SOCKET_DIR clean their own).
  rmSync(join(tmpdir(), 'berth-agents', hostId), { recursive: true, force: true });
  const list = await containersOf(hostId);
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`] } });
  // And the owners' volumes (named volumes, npm caches) this host made.
  const { Volumes: owners } = await docker.listVolumes({ filters: { label: [`${VOLUME_LABELS.host}=${hostId}`] } });
  await Promise.all(
    [...(Volumes ?? []), ...(owners ?? [])].map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
}

export { waitFor } from '@berth/service-kit/testing';
