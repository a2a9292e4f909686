// pnpm bench:egress — the forward proxy's throughput beside a direct download, setup-status
// callback latency (JetStream publish to receiver) and throughput, and the LLM proxy's overhead
// (chat completion through egress vs straight to the fake provider; streamed chunk forwarding),
// egress as a real process.
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { EVENTS, type SetupStatus } from '@berth/contracts';
import { connectNats, createLogger, drainNats, llmKeyHash, newBerthKey, request as natsRequest } from '@berth/service-kit';
import { freePort, ServiceProcess, startNatsServer, startRedisServer, waitForPort } from '@berth/service-kit/testing';
import { JetStreamEvents } from '@berth/pool-manager';
import { startFakeLlm } from '../test/support/fake-llm.js';
import { chatLatency, closeLlmClient, streamForwarding } from './lib/llm-calls.js';
import { report } from './lib/report.js';
import { round, summary } from './lib/stats.js';

const MIB = Number(process.env.BENCH_PROXY_MIB ?? 256);
const CALLBACKS = Number(process.env.BENCH_CALLBACKS ?? 200);
const BURST_WORKSPACES = 50;
const BURST_EACH = 10;
const CHUNK = randomBytes(1024 * 1024);
const LLM_CALLS = Number(process.env.BENCH_LLM_CALLS ?? 300);
const LLM_STREAMS = Number(process.env.BENCH_LLM_STREAMS ?? 50);
const LLM_KEYS = { openaiKey: `sk-bench-${randomBytes(8).toString('hex')}`, anthropicKey: `sk-ant-bench-${randomBytes(8).toString('hex')}` };

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** MiB/s of reading the whole response of `send` (which issues the request). */
async function download(send: (done: (res: IncomingMessage) => void) => void): Promise<number> {
  const t0 = performance.now();
  let bytes = 0;
  await new Promise<void>((resolve, reject) =>
    send((res) => {
      res.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      res.on('end', resolve);
      res.on('error', reject);
    }),
  );
  if (bytes !== MIB * CHUNK.length) throw new Error(`short read: ${bytes}`);
  return round(MIB / ((performance.now() - t0) / 1000), 0);
}

const upstream = createServer((_req, res) => {
  res.writeHead(200, { 'content-length': MIB * CHUNK.length });
  let sent = 0;
  const pump = () => {
    while (sent < MIB && res.write(CHUNK)) sent++;
    if (sent < MIB) {
      sent++;
      res.once('drain', pump);
    } else res.end();
  };
  pump();
});
const delivered = new Map<string, number>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    const s = JSON.parse(Buffer.concat(chunks).toString()) as SetupStatus;
    delivered.set(`${s.id}:${s.seq}`, performance.now());
    res.writeHead(204).end();
  });
});
const [upPort, recvPort, proxyPort] = [await listen(upstream), await listen(receiver), await freePort()];
const [nats, redis] = await Promise.all([startNatsServer(), startRedisServer()]);
const fake = await startFakeLlm({ ...LLM_KEYS, chunkDelayMs: 5 });
const logger = createLogger('bench', 'warn');
const nc = await connectNats({ url: nats.url, name: 'bench', logger });
await JetStreamEvents.start(nc, 'bench', logger);
const egress = new ServiceProcess('egress', {
  NATS_URL: nats.url,
  REDIS_URL: redis.url,
  LOG_LEVEL: 'warn',
  EGRESS_HEALTH_PORT: '0',
  EGRESS_SECRET_KEY: randomBytes(24).toString('hex'),
  EGRESS_PROXY_PORT: String(proxyPort),
  EGRESS_ALLOW_HOSTS: `127.0.0.1:${upPort}`,
  CALLBACK_ALLOW_CIDRS: '127.0.0.1/32',
  CALLBACK_CONCURRENCY: '16',
  LLM_OPENAI_BASE_URL: fake.openaiBaseUrl,
  LLM_OPENAI_API_KEY: LLM_KEYS.openaiKey,
  LLM_WORKSPACE_REQUESTS_PER_MINUTE: '1000000',
  LLM_OWNER_REQUESTS_PER_MINUTE: '1000000',
});
egress.start();
try {
  await waitForPort(proxyPort, 30_000);
  const until = async (what: string, ok: () => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}; egress: ${egress.output}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const url = `http://127.0.0.1:${upPort}/blob`;
  const direct = await download((done) => request(url, done).end());
  const viaHttp = await download((done) => request({ host: '127.0.0.1', port: proxyPort, path: url }, done).end());
  const viaConnect = await download((done) => {
    const s = connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT 127.0.0.1:${upPort} HTTP/1.1\r\nhost: 127.0.0.1:${upPort}\r\n\r\n`));
    s.once('data', () => request({ createConnection: () => s, path: '/blob' }, done).end());
  });

  const secret = randomBytes(16).toString('hex');
  const status = (id: string, seq: number): SetupStatus => ({
    id,
    seq,
    phase: 'cloning',
    repo: 'acme/app',
    branch: 'main',
    at: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    durations: {},
  });
  // A request to a stream subject is a JetStream publish: the reply is the stream's ack.
  const publish = (id: string, seq: number) => nc.request(EVENTS.setup.subject(id), JSON.stringify(status(id, seq)), { timeout: 5_000 });
  const register = (id: string) => natsRequest(nc, 'callbackRegister', { id, url: `http://127.0.0.1:${recvPort}/hook`, secret });

  const one = `ws_${randomBytes(8).toString('hex')}`;
  await register(one);
  const latency: number[] = [];
  for (let seq = 1; seq <= CALLBACKS; seq++) {
    const t0 = performance.now();
    await publish(one, seq);
    await until('a callback', () => delivered.has(`${one}:${seq}`));
    latency.push(delivered.get(`${one}:${seq}`)! - t0);
  }

  const ids = Array.from({ length: BURST_WORKSPACES }, () => `ws_${randomBytes(8).toString('hex')}`);
  await Promise.all(ids.map(register));
  const t0 = performance.now();
  await Promise.all(ids.flatMap((id) => Array.from({ length: BURST_EACH }, (_, i) => publish(id, i + 1))));
  await until('the burst', () => ids.every((id) => delivered.has(`${id}:${BURST_EACH}`)));
  const inOrder = ids.every((id) =>
    Array.from({ length: BURST_EACH - 1 }, (_, i) => delivered.get(`${id}:${i + 1}`)! <= delivered.get(`${id}:${i + 2}`)!).every(Boolean),
  );
  if (!inOrder) throw new Error('a workspace received its statuses out of order');
  const burstPerSecond = round((BURST_WORKSPACES * BURST_EACH) / ((performance.now() - t0) / 1000), 0);

  const llmKey = newBerthKey();
  await natsRequest(nc, 'llmKeyRegister', { workspaceId: one, owner: 'bench', hostId: 'bench', keyHash: llmKeyHash(llmKey) });
  const llmBase = `http://127.0.0.1:${proxyPort}/llm/openai/v1`;
  const chat = await chatLatency(fake, llmBase, llmKey, LLM_KEYS.openaiKey, LLM_CALLS);
  const [chatDirect, chatProxied] = [summary(chat.direct), summary(chat.proxied)];
  const overhead = round(chatProxied.p50 - chatDirect.p50);
  const streamed = await streamForwarding(fake, llmBase, llmKey, LLM_STREAMS);

  const lat = summary(latency);
  report(
    'egress',
    {
      proxy_direct_mib_s: direct,
      proxy_http_mib_s: viaHttp,
      proxy_connect_mib_s: viaConnect,
      callback_latency_p50_ms: lat.p50,
      callback_latency_p99_ms: lat.p99,
      callback_burst_per_s: burstPerSecond,
      llm_direct_p50_ms: chatDirect.p50,
      llm_proxied_p50_ms: chatProxied.p50,
      proxy_overhead_p50_ms: overhead,
      first_chunk_forward_p50_ms: streamed.first.p50,
    },
    [
      { measure: `${MIB} MiB through the proxy, plain HTTP`, value: `${viaHttp} MiB/s`, baseline: `${direct} MiB/s direct` },
      { measure: `${MIB} MiB through a CONNECT tunnel`, value: `${viaConnect} MiB/s`, baseline: `${direct} MiB/s direct` },
      { measure: `status published → callback received (${CALLBACKS}, one at a time)`, value: `p50 ${lat.p50} ms, p99 ${lat.p99} ms` },
      { measure: `${BURST_WORKSPACES} workspaces × ${BURST_EACH} statuses at once`, value: `${burstPerSecond} callbacks/s, in order per workspace` },
      {
        measure: `LLM chat completion, non-streaming, through egress (${LLM_CALLS}, p50 / p99)`,
        value: `${chatProxied.p50} / ${chatProxied.p99} ms`,
        baseline: `${chatDirect.p50} / ${chatDirect.p99} ms direct to the fake provider`,
      },
      { measure: 'LLM proxy overhead (p50 through egress − p50 direct)', value: `${overhead} ms`, target: '< 2 ms' },
      {
        measure: `LLM stream: fake writes first chunk → client receives it via egress (${LLM_STREAMS} streams, p50 / p99)`,
        value: `${streamed.first.p50} / ${streamed.first.p99} ms`,
        target: '< 5 ms',
      },
      { measure: 'LLM stream: every chunk, write → receive via egress (p50 / p99)', value: `${streamed.every.p50} / ${streamed.every.p99} ms` },
    ],
    { latency: lat, llm: { direct: chatDirect, proxied: chatProxied, stream: streamed } },
  );
} finally {
  await egress.kill('SIGTERM');
  await drainNats(nc);
  closeLlmClient();
  await fake.close();
  upstream.close();
  receiver.close();
  await Promise.all([nats.dispose(), redis.dispose()]);
}
