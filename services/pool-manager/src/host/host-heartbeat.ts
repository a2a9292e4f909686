import { randomBytes } from 'node:crypto';
import { HEARTBEAT_INTERVAL_MS, HEARTBEATS, type HostHeartbeat } from '@berth/contracts';
import { publishValidated, serve, type Logger, type NatsConnection, type Redis, type Subscription } from '@berth/service-kit';
import type { PoolManagerConfig } from '../config.js';
import { countByPool } from '../pool-filler.js';
import type { PoolRegistry } from '../pools.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import { MAX_LOCAL_REPOS, type RepoLocality } from './repo-locality.js';

type Config = Pick<PoolManagerConfig, 'BERTH_HOST_ID' | 'MAX_CONTAINERS' | 'MAX_MEMORY_MB' | 'PORT_RANGE'>;

/**
 * This host's heartbeat on `berth.heartbeat.<hostId>` every second (gateways place creates from
 * them and count a silent host lost), and its drain switch, kept in Redis so a restart stays drained.
 */
export class HostHeartbeatPublisher {
  /** New on every start: a gateway sees the host came back after a restart (and reconciled). */
  private readonly boot = randomBytes(6).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  private readonly drainKey: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly redis: Redis,
    private readonly store: WorkspaceStore,
    private readonly pools: PoolRegistry,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly repos?: Pick<RepoLocality, 'list'>,
  ) {
    this.drainKey = `${store.keys.prefix}draining`;
  }

  /** Publishes now and every HEARTBEAT_INTERVAL_MS; answers hostDrain. Returns the stopper. */
  start(): { sub: Subscription; stop: () => void } {
    const beat = () => {
      this.publish().catch((err: unknown) => this.logger.warn({ err }, 'heartbeat not published'));
    };
    beat();
    this.timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    const sub = serve(
      this.nc,
      'hostDrain',
      async (req) => {
        if (req.draining) await this.redis.set(this.drainKey, '1');
        else await this.redis.del(this.drainKey);
        this.logger.info({ draining: req.draining }, 'host drain switched');
        const status = await this.status();
        publishValidated(this.nc, HEARTBEATS.subject(this.config.BERTH_HOST_ID), HEARTBEATS.schema, status, this.logger);
        return status;
      },
      this.logger,
    );
    return { sub, stop: () => clearInterval(this.timer) };
  }

  private async publish(): Promise<void> {
    if (this.nc.isClosed()) return;
    publishValidated(this.nc, HEARTBEATS.subject(this.config.BERTH_HOST_ID), HEARTBEATS.schema, await this.status(), this.logger);
  }

  async status(): Promise<HostHeartbeat> {
    const [counts, capacity, ports, draining, setUp] = await Promise.all([
      countByPool(this.store),
      this.store.capacity(),
      this.store.ports(),
      this.redis.exists(this.drainKey),
      this.repos?.list() ?? [],
    ]);
    // A repo pool's warm containers start from its main image: this host is as good as set up for it.
    const repos = [...new Set([...this.pools.list.flatMap((p) => (p.repo ? [p.repo] : [])), ...setUp])].slice(0, MAX_LOCAL_REPOS);
    const [low, high] = this.config.PORT_RANGE;
    return {
      hostId: this.config.BERTH_HOST_ID,
      state: draining ? 'draining' : 'up',
      at: new Date().toISOString(),
      boot: this.boot,
      capacity: {
        maxContainers: this.config.MAX_CONTAINERS,
        containers: capacity.count,
        maxMemoryMb: this.config.MAX_MEMORY_MB,
        usedMemoryMb: capacity.memoryMb,
        freePorts: Math.max(0, high - low + 1 - Object.keys(ports).length),
      },
      pools: this.pools.list.map((p) => ({ name: p.name, ...(counts.get(p.name) ?? { warm: 0, creating: 0, claimed: 0 }) })),
      ...(repos.length > 0 && { repos }),
    };
  }
}
