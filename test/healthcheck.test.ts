import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docker/healthcheck.sh is the services' HEALTHCHECK (images and the dev compose file): busybox sh
// and nc instead of a Node process per probe. It passes on a 200 from /health only.
const run = promisify(execFile);
const script = join(repoRoot(), 'docker', 'healthcheck.sh');
let status = 200;
/** How long the server thinks before it answers, ms (a busy service answers late). */
let delayMs = 0;
let server: Server;
let port: number;

const probe = async (env: Record<string, string>, ...args: string[]) =>
  run('busybox', ['sh', script, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );

beforeAll(async () => {
  server = createServer((req, res) => {
    setTimeout(() => res.writeHead(req.url === '/health' ? status : 404).end('{}'), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('docker/healthcheck.sh', () => {
  it('passes on a 200 from /health on the port given', async () => {
    status = 200;
    expect(await probe({}, String(port))).toBe(0);
  });

  it('waits for an answer that comes late (a request piped into busybox nc ended it first)', async () => {
    status = 200;
    delayMs = 300;
    try {
      expect(await probe({}, String(port))).toBe(0);
    } finally {
      delayMs = 0;
    }
  });

  it('reads the port from the service config variable BERTH_SERVICE names', async () => {
    status = 200;
    expect(await probe({ BERTH_SERVICE: 'gateway', BERTH_PORT: String(port) })).toBe(0);
    expect(await probe({ BERTH_SERVICE: 'egress', EGRESS_HEALTH_PORT: String(port) })).toBe(0);
  });

  it('fails on any other status and when nothing listens', async () => {
    status = 503;
    expect(await probe({}, String(port))).not.toBe(0);
    status = 200;
    expect(await probe({}, '1')).not.toBe(0);
  });
});
