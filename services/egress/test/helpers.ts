import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceProcess, waitFor } from '@berth/service-kit/testing';

export const newWorkspaceId = () => `ws_${randomBytes(8).toString('hex')}`;
const SECRET_KEY = `k${randomBytes(24).toString('hex')}`;

export { waitFor };

/** A local HTTP server on 127.0.0.1 (an upstream for the proxy, or a callback receiver). */
export async function localServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Egress as a real process, keeping all of its output; resolves once it logged that it started. */
export async function startEgress(env: Record<string, string>): Promise<ServiceProcess> {
  const p = new ServiceProcess('egress', { LOG_LEVEL: 'debug', EGRESS_HEALTH_PORT: '0', EGRESS_SECRET_KEY: SECRET_KEY, ...env }, { keepAllOutput: true });
  p.start();
  await waitFor(
    'egress to start',
    () => {
      if (!p.running) throw new Error(`egress exited: ${p.output}`);
      return p.allOutput.includes('egress started');
    },
    30_000,
  );
  return p;
}
