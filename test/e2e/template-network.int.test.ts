import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tarOf, templateImageTag } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { buildOutput, buildTemplate } from '../support/template-api.js';
import { removeTemplates } from '../support/template-cleanup.js';

// A template build's RUN steps reach the network through egress's allow-list and nothing else: on
// the workspaces' network (behind its firewall) with egress's proxy as HTTP(S)_PROXY. Upstreams are
// on the host's loopback (egress reaches them; the build only through egress); the direct probe is a
// listener on every host address, tried at the workspaces' bridge address.
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
const NAME = `net-${randomBytes(3).toString('hex')}`;
const OWNER = 'default';
const seen = { allowed: 0, refused: 0, direct: 0 };
let allowed: Server;
let refused: Server;
let direct: Server;
let stack: LocalStack;

const listen = async (server: Server, host: string) => {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
};

// Runs in the build: each path's outcome as one PROBE line of the build's output.
const PROBE = `
const http = require('node:http');
const net = require('node:net');
const proxy = new URL(process.env.HTTP_PROXY);
const viaProxy = (target) => new Promise((resolve) => {
  const req = http.get({ host: proxy.hostname, port: proxy.port, path: target, timeout: 5000 }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve({ status: res.statusCode, body }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ error: e.code || e.message }));
});
const connect = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 3000 }, () => { s.destroy(); resolve('connected'); });
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve(e.code));
});
(async () => {
  const [allowedUrl, refusedUrl, directPort] = process.argv.slice(2);
  const result = { proxy: process.env.HTTP_PROXY, allowed: await viaProxy(allowedUrl), refused: await viaProxy(refusedUrl), direct: await connect(proxy.hostname, Number(directPort)) };
  console.log('PROBE ' + JSON.stringify(result));
})();
`;

beforeAll(async () => {
  allowed = createServer((_req, res) => {
    seen.allowed += 1;
    res.end('tool-bytes');
  });
  refused = createServer((_req, res) => {
    seen.refused += 1;
    res.end('should not be reached');
  });
  direct = createServer((_req, res) => {
    seen.direct += 1;
    res.end('should not be reached');
  });
  direct.on('connection', () => (seen.direct += 1));
  const allowedPort = await listen(allowed, '127.0.0.1');
  await listen(refused, '127.0.0.1');
  await listen(direct, '0.0.0.0');
  stack = await startLocalStack(
    { POOLS: JSON.stringify([{ name: 'default', targetSize: 0, maxCreating: 1, memoryMb: 128, pids: 64 }]), MAX_CONTAINERS: '2' },
    'warn',
    { imageBuilder: true, egress: { githubUrl: 'http://127.0.0.1:9', env: { EGRESS_ALLOW_HOSTS: `127.0.0.1:${allowedPort}` } } },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (stack) removeTemplates(stack.hostId, [OWNER], [NAME]);
  for (const s of [allowed, refused, direct]) s?.close();
}, 60_000);

describe('template builds and the network', () => {
  test("RUN steps reach an allow-listed host through egress's proxy, and nothing else; the proxy is not kept in the image", async () => {
    const port = (s: Server) => (s.address() as AddressInfo).port;
    const dockerfile = [
      `FROM ${IMAGE}`,
      'COPY probe.js /tmp/probe.js',
      `RUN node /tmp/probe.js http://127.0.0.1:${port(allowed)}/tool http://127.0.0.1:${port(refused)}/ ${port(direct)}`,
    ].join('\n');
    const r = await buildTemplate(stack.url, stack.token, {
      tar: tarOf([
        { name: 'Dockerfile', content: dockerfile },
        { name: 'probe.js', content: PROBE },
      ]),
      name: NAME,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const text = buildOutput(r.events);
    expect(r.events.at(-1)?.event, text).toEqual({ type: 'done', name: NAME, built: [stack.hostId], failed: [] });
    const line = /PROBE (\{.*\})/.exec(text);
    expect(line, text).not.toBeNull();
    const probe = JSON.parse(line![1]!) as { proxy: string; allowed: { status?: number; body?: string }; refused: { status?: number }; direct: string };
    expect(probe.proxy).toBe(stack.llmEgressUrl);
    expect(probe.allowed).toEqual({ status: 200, body: 'tool-bytes' });
    expect(probe.refused.status).toBe(403);
    expect(probe.direct).not.toBe('connected');
    expect(seen).toEqual({ allowed: 1, refused: 0, direct: 0 });

    // Docker's predefined proxy args: in the RUN step's environment only, not in the image or its history.
    const image = templateImageTag(OWNER, NAME);
    const env = execFileSync('docker', ['image', 'inspect', '-f', '{{json .Config.Env}}', image], { encoding: 'utf8' });
    expect(env.toLowerCase()).not.toContain('proxy');
    const history = execFileSync('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', image], { encoding: 'utf8' });
    expect(history).not.toContain(stack.llmEgressUrl!);
  }, 300_000);
});
