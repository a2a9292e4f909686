import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { NATS_SERVER_VERSION, repoRoot, startNatsServer, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectNats, createLogger, type NatsConnection } from '../src/index.js';

// Debian bookworm's nats-server 2.9.10 rejects consumers with several filter subjects: every mode
// runs the pinned >= 2.10 (scripts/lib/nats-server.sh installs it).
const atLeast210 = (v: string) => {
  const [major = 0, minor = 0] = v.replace(/^v/, '').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 10);
};

let nats: ServerProcess & { url: string };
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ url: nats.url, name: 'version-test', logger: createLogger('version-test', 'silent') });
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

test('the pin is a nats-server >= 2.10', () => {
  expect(atLeast210(NATS_SERVER_VERSION)).toBe(true);
});

test('the test harnesses run the pinned nats-server', () => {
  expect(nc.info?.version).toBe(NATS_SERVER_VERSION);
});

test('scripts (scripts/up, scripts/test) find the pinned nats-server first on PATH', () => {
  const out = execFileSync('bash', ['-c', `. ${JSON.stringify(join(repoRoot(), 'scripts/lib/env.sh'))} && nats-server --version`], { encoding: 'utf8' });
  expect(out.trim()).toBe(`nats-server: v${NATS_SERVER_VERSION}`);
});
