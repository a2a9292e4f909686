import { inboxPrefix } from '@berth/contracts';
import { connect, createInbox } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.js';
import { bindHost } from './host-subjects.js';
import { settleHandlers } from './rpc.js';

export type { NatsConnection, Subscription } from '@nats-io/transport-node';

export interface NatsOptions {
  url: string;
  name: string;
  user?: string | undefined;
  password?: string | undefined;
  /** BERTH_HOST_ID: host-addressed subjects are served for it, and asked of it when nothing names another host. */
  hostId?: string | undefined;
  logger: Logger;
}

const inboxPrefixes = new WeakMap<NatsConnection, string>();

/** A fresh inbox under this connection's own prefix, the only one its NATS user may read. */
export function newInbox(nc: NatsConnection): string {
  return createInbox(inboxPrefixes.get(nc));
}

/** The servers of a comma-separated NATS_URL, blanks dropped. */
export function natsServerList(url: string): string[] {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new Error('NATS_URL names no server');
  return servers;
}

/** Connects with unbounded reconnect; status changes are logged, never fatal. */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    // Every node of a cluster (NATS_URL comma-separated): the client picks one at random and
    // moves to another on its own when it goes away.
    servers: natsServerList(opts.url),
    name: opts.name,
    // A user's permissions allow only its own inbox (docker/nats/nats-server.conf).
    ...(opts.user !== undefined && { user: opts.user, pass: opts.password ?? '', inboxPrefix: inboxPrefix(opts.user) }),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // No stack captured per request (two Error objects each: a warm claim makes three requests).
    // Our errors say the subject; the stack of the awaiting call is in every caller's own trace.
    noAsyncTraces: true,
    // TLS when the server requires it; not when it merely offers it (a NATS published with TLS for
    // other systems, docker/nats/tls.conf): services reach it on the private network, by a name its certificate may not carry.
    tls: null,
  });
  if (opts.user !== undefined) inboxPrefixes.set(nc, inboxPrefix(opts.user));
  if (opts.hostId !== undefined) bindHost(nc, opts.hostId);
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'ping') continue;
      opts.logger.info({ nats: status.type }, 'nats status');
    }
  })();
  opts.logger.info({ server: nc.getServer() }, 'nats connected');
  return nc;
}

/**
 * Stops taking requests, lets the serve() handlers already running reply, flushes publishes,
 * then closes. Safe to call twice.
 */
export async function drainNats(nc: NatsConnection): Promise<void> {
  if (nc.isClosed() || nc.isDraining()) return;
  await settleHandlers(nc);
  if (nc.isClosed() || nc.isDraining()) return;
  await nc.drain();
}
