import type { Logger } from '@berth/service-kit';
import type { Server } from 'node:http';

/**
 * Listens on `port` at each address. An address that does not exist yet (EADDRNOTAVAIL: the
 * workspaces' bridge before pool-manager created it) is retried every `retryMs` in the
 * background; any other failure is fatal. Returns a function that closes every listener.
 */
export async function listenOnEach(make: () => Server, addresses: string[], port: number, logger: Logger, retryMs = 5_000): Promise<() => Promise<void>> {
  const servers: Server[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const attempt = (address: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const server = make();
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRNOTAVAIL') return reject(new Error(`proxy cannot listen on ${address}:${port}: ${err.code ?? err.message}`));
        logger.warn({ address, port }, 'proxy address not available yet; retrying');
        const t = setTimeout(() => {
          timers.delete(t);
          if (!closed) attempt(address).catch((e: unknown) => logger.error({ err: e }, 'proxy listen failed'));
        }, retryMs);
        timers.add(t);
        resolve();
      });
      server.listen(port, address, () => {
        servers.push(server);
        logger.info({ address, port }, 'proxy listening');
        resolve();
      });
    });

  await Promise.all(addresses.map(attempt));
  return async () => {
    closed = true;
    for (const t of timers) clearTimeout(t);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  };
}
