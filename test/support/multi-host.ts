import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, freePort, ServiceProcess, type ServerProcess } from '@berth/service-kit/testing';
import { NatsCluster } from './nats-cluster.js';
import { SecondDockerd } from './second-dockerd.js';

/**
 * Several Docker hosts on this one machine, as issue 17 runs berth on several machines: each host
 * is its own dockerd (data root, exec root, socket, bridge and address pool of its own) with its
 * own pool-manager and log-streamer as processes, all on one NATS cluster (three nodes, EVENTS
 * and LOGS with three replicas, as in production) and one Redis, behind one gateway. Used by
 * tests, `pnpm bench:scale` and `scripts/up --hosts N`.
 */
interface HostNode {
  id: string;
  engine: SecondDockerd;
  poolManager: ServiceProcess;
  logStreamer: ServiceProcess;
  /** This host's PORT_RANGE: hosts share the machine's loopback, so their ranges must not overlap. */
  portRange: [number, number];
  /** Kills its engine and services at once, as when the machine dies. */
  kill(): Promise<void>;
  /** Starts its engine (live-restore: its containers kept running) and services again, as when the machine comes back. */
  restart(): Promise<void>;
  alive: boolean;
}

export interface MultiHostStack {
  url: string;
  token: string;
  hosts: HostNode[];
  natsUrls: string[];
  /** The NATS cluster every service and the gateway are connected to (a node can be killed and restarted). */
  nats: NatsCluster;
  redis: ServerProcess & { url: string };
  gateway: ServiceProcess;
  outputTail(): string;
  stop(): Promise<void>;
}

export interface MultiHostOptions {
  hosts: number;
  /** pool-manager env for every host (POOLS, MAX_CONTAINERS, ...). */
  poolEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** Images each engine gets from the system engine (`docker save | docker load`) besides MULTI_HOST_IMAGE: only what the pools use. */
  images?: string[];
  logLevel?: string;
  token?: string;
  /** NATS nodes (default 3; 1 is a one-node "cluster" with streams of one replica). */
  natsNodes?: number;
}

/**
 * The workspace image the harness gives every engine unless told otherwise: berth's 2 MB busybox
 * with a `test` applet link and a /workspace of uid 1000 (pool-manager's volume-init task runs
 * `test -w /workspace` as that user), built inside each
 * engine, never in the system one.
 */
export const MULTI_HOST_IMAGE = 'berth-multihost/busybox:latest';
const MULTI_HOST_DOCKERFILE =
  'FROM berth/busybox:latest\nRUN ["/bin/busybox", "ln", "-s", "busybox", "/bin/test"]\n' +
  'RUN ["/bin/busybox", "mkdir", "-p", "/workspace"]\nRUN ["/bin/busybox", "chown", "1000:1000", "/workspace"]\n';

function buildHarnessImage(engine: SecondDockerd): void {
  engine.loadImage('berth/busybox:latest');
  execFileSync('docker', ['-H', `unix://${engine.socket}`, 'build', '-q', '-t', MULTI_HOST_IMAGE, '-'], {
    input: MULTI_HOST_DOCKERFILE,
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

/** Host i's ports: 2000 per host from 42000, clear of the single-host stacks' defaults. */
const portRangeOf = (i: number): [number, number] => [42_000 + i * 2_000, 42_000 + i * 2_000 + 1_999];

export async function startMultiHost(opts: MultiHostOptions): Promise<MultiHostStack> {
  const run = randomBytes(3).toString('hex');
  const [nats, redis, port] = await Promise.all([NatsCluster.start({ size: opts.natsNodes ?? 3 }), startRedisServer(), freePort()]);
  const natsUrls = nats.urls;
  const token = opts.token ?? randomBytes(24).toString('hex');
  const logLevel = opts.logLevel ?? 'warn';
  const images = opts.images ?? [];
  const common = { NATS_URL: natsUrls.join(','), REDIS_URL: redis.url, LOG_LEVEL: logLevel, JETSTREAM_REPLICAS: String(nats.nodes.length) };
  const started: HostNode[] = [];
  let gateway: ServiceProcess | undefined;

  const stop = async () => {
    await gateway?.kill('SIGTERM');
    await Promise.all(
      started.map(async (h) => {
        await h.logStreamer.kill('SIGTERM');
        await h.poolManager.kill('SIGTERM');
        await h.engine.dispose();
        rmSync(join(tmpdir(), 'berth-agents', h.id), { recursive: true, force: true });
      }),
    );
    await Promise.all([nats.stop(), redis.dispose()]);
  };

  try {
    // Engines one after another: each start and image load is disk-bound, in parallel they only wait on each other.
    for (let i = 0; i < opts.hosts; i += 1) {
      // Host ids in a run's own namespace, so two stacks on one machine never share Redis keys or labels.
      const id = `h${i + 1}-${run}`;
      const engine = new SecondDockerd({ bridgeCidr: `172.31.${190 + i}.1/24`, addressPool: { base: `10.213.${i * 16}.0/20`, size: 24 } });
      const portRange = portRangeOf(i);
      const poolManager = new ServiceProcess('pool-manager', {
        ...common,
        BERTH_HOST_ID: id,
        DOCKER_SOCKET: engine.socket,
        HEALTH_PORT: '0',
        PORT_RANGE: `${portRange[0]}-${portRange[1]}`,
        AGENTS_ENABLED: 'false',
        WORKSPACE_NETWORK: `berth-ws-${id}`,
        WORKSPACE_IMAGE: MULTI_HOST_IMAGE,
        ...opts.poolEnv,
      });
      const logStreamer = new ServiceProcess('log-streamer', {
        ...common,
        BERTH_HOST_ID: id,
        DOCKER_SOCKET: engine.socket,
        LOG_STREAMER_HEALTH_PORT: '0',
        LOGS_RESCAN_INTERVAL_MS: '1000',
      });
      const node: HostNode = {
        id,
        engine,
        poolManager,
        logStreamer,
        portRange,
        alive: true,
        kill: async () => {
          node.alive = false;
          engine.kill();
          await Promise.all([poolManager.kill('SIGKILL'), logStreamer.kill('SIGKILL')]);
        },
        restart: async () => {
          await engine.start();
          poolManager.start();
          logStreamer.start();
          node.alive = true;
        },
      };
      started.push(node);
      await engine.start();
      buildHarnessImage(engine);
      for (const image of images) engine.loadImage(image);
      poolManager.start();
      logStreamer.start();
    }
    gateway = new ServiceProcess('gateway', {
      ...common,
      BERTH_PORT: String(port),
      BERTH_BIND: '127.0.0.1',
      BERTH_API_TOKEN: token,
      RATE_LIMIT_RPS: '0',
      ...opts.gatewayEnv,
    });
    gateway.start();
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 180_000;
    // Up when the gateway hears every host's heartbeat.
    for (;;) {
      const hosts = await fetch(`${url}/api/hosts`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => (r.ok ? ((await r.json()) as { count: number }).count : 0),
        () => 0,
      );
      if (hosts === opts.hosts) break;
      const dead = [gateway, ...started.flatMap((h) => [h.poolManager, h.logStreamer])].find((p) => !p.running);
      if (Date.now() > deadline || dead) throw new Error(`multi-host stack did not come up (${dead?.service ?? 'timeout'}):\n${tail(gateway, started)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const g = gateway;
    return { url, token, hosts: started, natsUrls, nats, redis, gateway: g, outputTail: () => tail(g, started), stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

function tail(gateway: ServiceProcess | undefined, hosts: HostNode[]): string {
  const procs = [gateway, ...hosts.flatMap((h) => [h.poolManager, h.logStreamer])].filter((p) => p !== undefined);
  return procs.map((p) => `${p.service} output:\n${p.output.slice(-2000)}`).join('\n');
}
