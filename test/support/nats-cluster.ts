import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsPasswordVar, natsServices, type ServiceName } from '@berth/contracts';
import { ServerProcess, freePort, natsServerBin, waitFor } from '@berth/service-kit/testing';
import { authorizationBlock } from '../../packages/contracts/scripts/nats-config.js';

/*
 * A three-node nats-server cluster on loopback for tests and benches (scripts/lib/nats-cluster is
 * the same for a person): JetStream on every node, each with its own store directory, routes
 * between them authenticated as `route`, and optionally the generated service users as production
 * has them. A node can be killed (SIGKILL) and restarted on its ports and store.
 */

export interface NatsClusterOptions {
  /** Nodes (default 3). */
  size?: number;
  /** The generated service users (docker/nats/authorization.conf); without them anyone may connect. */
  users?: boolean;
}

export interface NatsClusterNode {
  /** server_name, n1..nN */
  name: string;
  url: string;
  monitorPort: number;
  clusterPort: number;
  server: ServerProcess;
}

const CLUSTER_NAME = 'berth-test';

export class NatsCluster {
  private constructor(
    readonly nodes: NatsClusterNode[],
    /** Each service user's password, when started with `users`. */
    readonly passwords: Record<ServiceName, string> | undefined,
  ) {}

  static async start(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = opts.size ?? 3;
    const routePassword = randomBytes(16).toString('hex');
    let auth = '';
    let passwords: Record<ServiceName, string> | undefined;
    if (opts.users) {
      passwords = Object.fromEntries(natsServices().map((s) => [s, `s${randomBytes(12).toString('hex')}`])) as Record<ServiceName, string>;
      // nats-server resolves the users' $NATS_PASSWORD_<SERVICE> from its environment (inherited).
      Object.assign(process.env, Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), passwords![s]])));
      auth = authorizationBlock();
    }
    const ports = await Promise.all(Array.from({ length: size }, async () => ({ monitor: await freePort(), cluster: await freePort() })));
    const routes = ports.map((p) => `"nats-route://route:${routePassword}@127.0.0.1:${p.cluster}"`).join(', ');
    const nodes = await Promise.all(
      ports.map(async (p, i) => {
        const name = `n${i + 1}`;
        const server = await ServerProcess.start(natsServerBin(), (port, dir) => {
          writeFileSync(
            join(dir, 'nats.conf'),
            [
              `server_name: ${name}`,
              `listen: "127.0.0.1:${port}"`,
              `http: "127.0.0.1:${p.monitor}"`,
              `jetstream { store_dir: "${join(dir, 'js')}" }`,
              `cluster {`,
              `  name: ${CLUSTER_NAME}`,
              `  listen: "127.0.0.1:${p.cluster}"`,
              `  authorization { user: route, password: "${routePassword}", timeout: 2 }`,
              `  routes: [${routes}]`,
              `}`,
              auth,
            ].join('\n'),
            { mode: 0o600 },
          );
          return ['-c', join(dir, 'nats.conf')];
        });
        return { name, url: `nats://127.0.0.1:${server.port}`, monitorPort: p.monitor, clusterPort: p.cluster, server };
      }),
    );
    const cluster = new NatsCluster(nodes, passwords);
    try {
      await cluster.waitReady();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Every node's URL, comma-separated: what NATS_URL holds for a service. */
  get url(): string {
    return this.urls.join(',');
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The index of the node named `name` (a stream's `cluster.leader`). */
  indexOf(name: string): number {
    const i = this.nodes.findIndex((n) => n.name === name);
    if (i < 0) throw new Error(`no node ${name} in the cluster`);
    return i;
  }

  /** Kills node `i` (SIGKILL by default: a crash, nothing flushed). */
  async kill(i: number, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    await this.nodes[i]!.server.stop(signal);
  }

  /** Starts node `i` again on its ports and store, and waits until it has caught up. */
  async restart(i: number, timeoutMs = 60_000): Promise<void> {
    await this.nodes[i]!.server.restart('SIGKILL');
    await this.waitHealthy(i, timeoutMs);
  }

  /**
   * Until node `i` answers healthy: JetStream enabled, in the meta group, and (2.10's /healthz)
   * every stream and consumer replica it holds current with its leader.
   */
  async waitHealthy(i: number, timeoutMs = 60_000): Promise<void> {
    const node = this.nodes[i]!;
    let last = '';
    await waitFor(
      `nats node ${node.name} healthy`,
      () =>
        this.monitor(i, '/healthz').then(
          async (r) => {
            last = await r.text();
            return r.ok;
          },
          (err: unknown) => {
            last = String(err);
            return false;
          },
        ),
      timeoutMs,
      100,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer: ${last}`);
    });
  }

  /** Until every node is healthy and the cluster has a JetStream meta leader. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.waitHealthy(i, timeoutMs)));
    let last: unknown;
    await waitFor(
      'a JetStream meta leader',
      async () => {
        const jsz = await this.jsz(0).catch((err: unknown) => String(err));
        last = typeof jsz === 'string' ? jsz : jsz.meta_cluster;
        return typeof jsz !== 'string' && Boolean(jsz.meta_cluster?.leader) && (jsz.meta_cluster?.cluster_size ?? 0) >= this.nodes.length;
      },
      timeoutMs,
      100,
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; node ${this.nodes[0]!.name}'s last meta_cluster: ${JSON.stringify(last)}; every node: ${await this.describe()}`);
    });
  }

  /** Each node's view of the meta group and its routes, for a failure message. */
  private async describe(): Promise<string> {
    const views = await Promise.all(
      this.nodes.map(async (n, i) => {
        const meta = await this.jsz(i).then(
          (j) => j.meta_cluster,
          (e: unknown) => String(e),
        );
        const routes = await this.monitor(i, '/routez').then(
          async (r) => ((await r.json()) as { routes?: { remote_name?: string }[] }).routes?.map((x) => x.remote_name),
          (e: unknown) => String(e),
        );
        return `${n.name}: meta ${JSON.stringify(meta)} routes ${JSON.stringify(routes)}`;
      }),
    );
    return views.join(' | ');
  }

  /** The name of the node a client connected with this name (connect option `name`) is on, if any. */
  async nodeOfClient(clientName: string): Promise<string | undefined> {
    for (const [i, node] of this.nodes.entries()) {
      const connz = await this.monitor(i, '/connz?limit=1024').then(
        (r) => r.json() as Promise<{ connections?: { name?: string }[] }>,
        () => undefined,
      );
      if (connz?.connections?.some((c) => c.name === clientName)) return node.name;
    }
    return undefined;
  }

  /** The node's /jsz (JetStream state as that node sees it). */
  async jsz(i: number): Promise<{ meta_cluster?: { leader?: string; cluster_size?: number } }> {
    const r = await this.monitor(i, '/jsz');
    return (await r.json()) as { meta_cluster?: { leader?: string; cluster_size?: number } };
  }

  private monitor(i: number, path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.nodes[i]!.monitorPort}${path}`, { signal: AbortSignal.timeout(5_000) });
  }

  /** Kills every node and removes their stores. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.server.dispose()));
  }
}
