import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENTS, LOGS } from '@berth/contracts';
import { connectNats, createLogger, newBerthKey } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { containerConfigs, findSecret, redisEntries, streamMessages } from '../support/secret-scan.js';

// Secrets sent the ways a caller or a workspace might send them (query strings, headers, bodies), to
// every service that logs a request, at debug level; then every log, Redis key and JetStream message
// is grepped for them.
const POOL = { name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 };
const canary = (what: string) => `canary${what}${randomBytes(12).toString('hex')}`;
const TOKEN = canary('ApiToken');

let stack: LocalStack;
let upstream: Server;
const upstreamSeen: string[] = [];

beforeAll(async () => {
  // An allow-listed "GitHub" for egress' forward proxy.
  upstream = createServer((req, res) => {
    upstreamSeen.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const githubUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  stack = await startLocalStack({ POOLS: JSON.stringify([POOL]), MAX_CONTAINERS: '3' }, 'debug', {
    token: TOKEN,
    keepAllOutput: true,
    egress: { githubUrl },
    gatewayEnv: { AUTH_FAILURES_PER_MINUTE: '0' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => upstream?.close(r));
});

const api = (method: string, path: string, opts: { body?: string; headers?: Record<string, string>; auth?: boolean } = {}) =>
  fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(opts.auth !== false && { authorization: `Bearer ${TOKEN}` }),
      ...(opts.body !== undefined && { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    body: opts.body,
  }).then(async (r) => ({ status: r.status, text: await r.text() }));

/** One request through egress' forward proxy (absolute-form target). */
const viaProxy = (target: string, headers: Record<string, string> = {}) =>
  new Promise<number>((resolve, reject) => {
    const { port } = new URL(stack.egressProxyUrl!);
    httpRequest({ host: '127.0.0.1', port, path: target, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });

describe('secret canaries', () => {
  test('secrets in URLs, headers and bodies are in no log, Redis key or JetStream message', async () => {
    const secrets: Record<string, string> = { apiToken: TOKEN };
    const add = (name: string) => (secrets[name] = canary(name));

    const created = await api('POST', '/api/containers', { body: '{}' });
    expect(created.status, created.text).toBe(201);
    const { id } = JSON.parse(created.text) as { id: string };

    // Query strings, to the gateway: authenticated, unauthenticated, and a real ticket spent in a URL.
    expect((await api('GET', `/api/containers?token=${add('queryToken')}&state=claimed`)).status).toBe(200);
    expect((await api('GET', `/api/pools?api_key=${add('queryKey')}&secret=${add('querySecret')}&signature=${add('querySig')}`, { auth: false })).status).toBe(
      401,
    );
    const ticket = JSON.parse((await api('POST', `/api/containers/${id}/tickets`)).text) as { ticket: string };
    secrets.realTicket = ticket.ticket;
    const spent = await api('GET', `/api/containers/${id}/terminal?ticket=${ticket.ticket}`, { auth: false });
    expect(spent.status, spent.text).toBe(400); // redeemed, then: not a WebSocket upgrade
    const forgedTicket = add('ticket').slice(0, 43).padEnd(43, 'x');
    secrets.forgedTicket = forgedTicket;
    expect((await api('GET', `/api/containers/${id}/terminal?ticket=${forgedTicket}`, { auth: false })).status).toBe(401);

    // Headers: a wrong bearer token, an x-api-key, a cookie, a WebSocket subprotocol ticket.
    expect((await api('GET', '/api/pools', { auth: false, headers: { authorization: `Bearer ${add('wrongBearer')}` } })).status).toBe(401);
    expect((await api('GET', '/api/pools', { headers: { 'x-api-key': add('xApiKey'), cookie: `session=${add('cookie')}` } })).status).toBe(200);
    expect(
      (
        await api('GET', `/api/containers/${id}/terminal`, {
          auth: false,
          headers: { 'sec-websocket-protocol': `berth.terminal.v1, berth.ticket.${add('protoTicket').slice(0, 43)}` },
        })
      ).status,
    ).toBe(401);
    secrets.protoTicket = secrets.protoTicket!.slice(0, 43);

    // Bodies: a secret in an unknown field, in a refused callback, and in a command's env.
    expect((await api('POST', '/api/containers', { body: JSON.stringify({ githubToken: add('bodyUnknownField') }) })).status).toBe(400);
    expect((await api('POST', '/api/containers', { body: `{"pool":"default","x":"${add('bodyBadJson')}"` })).status).toBe(400);
    const exec = await api('POST', `/api/containers/${id}/exec`, { body: JSON.stringify({ command: ['true'], env: { API_KEY: add('execEnv') } }) });
    expect(exec.status, exec.text).toBe(200);

    // Egress: its forward proxy (a token in the query) and its LLM proxy (a forged key, a key in the query).
    expect(
      await viaProxy(
        `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/acme/app.git/info/refs?service=git-upload-pack&access_token=${add('proxyQuery')}`,
        { authorization: `token ${add('proxyAuth')}` },
      ),
    ).toBe(200);
    expect(upstreamSeen.some((u) => u.includes(secrets.proxyQuery!))).toBe(true); // it did go through
    const forged = newBerthKey();
    secrets.forgedLlmKey = forged;
    const llm = await fetch(`${stack.egressProxyUrl}/llm/openai/v1/chat/completions?key=${add('llmQuery')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${forged}`, 'content-type': 'application/json' },
      body: '{"model":"x","messages":[]}',
    });
    expect(llm.status).toBe(401);

    // Let the debug lines and JetStream writes land.
    await new Promise((r) => setTimeout(r, 1_000));
    const nc = await connectNats({ url: stack.nats.url, name: 'secret-canary', logger: createLogger('test', 'silent') });
    const streams = [...(await streamMessages(nc, EVENTS.stream)), ...(await streamMessages(nc, LOGS.stream).catch(() => []))];
    await nc.close();
    const items: [string, string][] = [
      ...[stack.gateway, stack.poolManager, stack.logStreamer, stack.egress!].map((p): [string, string] => [`${p.service} log`, p.allOutput]),
      ...(await redisEntries(stack.redis.url)),
      ...streams,
      ...containerConfigs(stack.hostId),
    ];
    const leaks = Object.entries(secrets).flatMap(([name, secret]) => findSecret(items, secret).map((where) => `${name} in ${where}`));
    expect(leaks).toEqual([]);
    // The requests were logged, with their URLs, just not their secrets.
    expect(stack.gateway.allOutput).toContain('incoming request');
    expect(stack.gateway.allOutput).toContain('token=[redacted]');
    expect(stack.egress!.allOutput).toContain('access_token=[redacted]');
  }, 120_000);
});
