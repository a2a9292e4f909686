import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENTS, LLM_KEY_PATTERN, LlmUsageEventSchema, UsageSchema, type LlmUsageEvent } from '@berth/contracts';
import { connectNats, createLogger, Redis, type NatsConnection } from '@berth/service-kit';
import { waitFor } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { flatNodeModules } from '../support/node-packages.js';
import { containerConfigs, findSecret, redisEntries, streamMessages } from '../support/secret-scan.js';
import { apiClient } from '../support/setup-client.js';

// The official openai and @anthropic-ai/sdk clients, unmodified, inside real workspaces, against fake
// providers on 127.0.0.1 that only egress (a host process) can reach. The real keys live in egress's
// env alone; workspaces hold scoped bk_ keys.
const OPENAI_KEY = `sk-real-openai-${'Zq9'.repeat(12)}`;
const ANTHROPIC_KEY = `sk-ant-real-${'Xw7'.repeat(12)}`;
const CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'llm-client.mjs');

let fake: FakeLlm;
let stack: LocalStack;
let client: ReturnType<typeof apiClient>;
let nc: NatsConnection;
let nodeModules = '';
const usageEvents: LlmUsageEvent[] = [];

interface CallResult {
  ok: boolean;
  name?: string;
  status?: number | null;
  retryAfter?: string | null;
  text?: string;
  chunks?: number;
  usage?: Record<string, number>;
  models?: string[];
  error?: unknown;
  statuses?: number[];
  limited?: CallResult;
  after?: CallResult;
  waitedMs?: number;
}

beforeAll(async () => {
  fake = await startFakeLlm({ openaiKey: OPENAI_KEY, anthropicKey: ANTHROPIC_KEY, chunkDelayMs: 5 });
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 512, pids: 256 }]),
      MAX_CONTAINERS: '10',
      RECONCILE_INTERVAL_MS: '2000',
    },
    'info',
    {
      keepAllOutput: true,
      egress: {
        githubUrl: 'http://127.0.0.1:9', // no git in these tests
        llm: { openaiBaseUrl: fake.openaiBaseUrl, anthropicBaseUrl: fake.anthropicBaseUrl, openaiKey: OPENAI_KEY, anthropicKey: ANTHROPIC_KEY },
        env: { LLM_WORKSPACE_REQUESTS_PER_MINUTE: '600', LLM_PRICES: JSON.stringify({ 'gpt-fake': { inputPerMTok: 1e6, outputPerMTok: 1e6 } }) },
      },
    },
  );
  client = apiClient(stack);
  nodeModules = flatNodeModules(['openai', '@anthropic-ai/sdk']);
  nc = await connectNats({ url: stack.nats.url, name: 'llm-usage-events', logger: createLogger('test', 'silent') });
  const sub = nc.subscribe('berth.evt.usage.*.llm');
  void (async () => {
    for await (const m of sub) usageEvents.push(LlmUsageEventSchema.parse(m.json()));
  })();
}, 180_000);

afterAll(async () => {
  await nc?.close();
  await stack?.stop();
  await fake?.close();
  if (nodeModules) rmSync(nodeModules, { recursive: true, force: true });
});

/** Claims a workspace (with `llm` limits when given) and copies the SDKs and the client script into it. */
async function workspace(llm?: Record<string, number>): Promise<string> {
  const r = await client.api('POST', '/api/containers', llm ? { llm } : {});
  expect(r.status, r.text).toBe(201);
  const id = String(r.json().id);
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  execFileSync('docker', ['cp', `${nodeModules}/.`, `${ref}:/workspace/llm`]);
  execFileSync('docker', ['cp', CLIENT, `${ref}:/workspace/llm/llm-client.mjs`]);
  return id;
}

/** Runs the in-workspace client through the exec API: the API's answer, and the client's result line when the command ran. */
async function runClient(id: string, name: string, env?: Record<string, string>, arg?: string) {
  const r = await client.api('POST', `/api/containers/${id}/exec`, {
    command: ['node', '/workspace/llm/llm-client.mjs', name, ...(arg ? [arg] : [])],
    timeout: 60_000,
    ...(env && { env }),
  });
  const out = r.status === 200 ? (r.json() as { exitCode: number; stdout: string; stderr: string }) : undefined;
  const result = out?.exitCode === 0 ? (JSON.parse(out.stdout.trim().split('\n').at(-1)!) as CallResult) : undefined;
  return { r, out, result };
}

async function call(id: string, name: string, env?: Record<string, string>, arg?: string): Promise<CallResult> {
  const { r, out, result } = await runClient(id, name, env, arg);
  expect(r.status, r.text).toBe(200);
  expect(out!.exitCode, out!.stderr).toBe(0);
  return result!;
}

const printenv = async (id: string, name: string) => (await client.exec(id, ['sh', '-c', `printf %s "$${name}"`])).stdout;

describe('LLM egress from inside a workspace', () => {
  test('the official clients get answers, streaming and not, while only egress holds the real keys', async () => {
    const id = await workspace();
    const chat = await call(id, 'openai-chat');
    expect(chat, JSON.stringify(chat)).toMatchObject({ ok: true });
    expect(chat.text).toBeTruthy();
    const stream = await call(id, 'openai-stream');
    expect(stream, JSON.stringify(stream)).toMatchObject({ ok: true });
    expect(stream.chunks).toBeGreaterThan(2);
    expect(stream.text).toBe(chat.text);
    const message = await call(id, 'anthropic-message');
    expect(message, JSON.stringify(message)).toMatchObject({ ok: true });
    const anthropicStream = await call(id, 'anthropic-stream');
    expect(anthropicStream, JSON.stringify(anthropicStream)).toMatchObject({ ok: true, text: message.text });
    expect(anthropicStream.chunks).toBeGreaterThan(1);
    expect(await call(id, 'openai-embeddings')).toMatchObject({ ok: true });
    expect((await call(id, 'openai-models')).models?.length).toBeGreaterThan(0);

    // The providers saw the real keys, never a scoped one.
    const openaiAuth = fake.requests.filter((q) => q.provider === 'openai').map((q) => q.auth);
    const anthropicAuth = fake.requests.filter((q) => q.provider === 'anthropic').map((q) => q.auth);
    expect(openaiAuth.length).toBeGreaterThanOrEqual(4);
    expect(new Set(openaiAuth)).toEqual(new Set([`Bearer ${OPENAI_KEY}`]));
    expect(new Set(anthropicAuth)).toEqual(new Set([ANTHROPIC_KEY]));

    // The workspace has its scoped key and egress's address, and the real keys nowhere: env,
    // files, any process's environment or command line.
    const key = await printenv(id, 'OPENAI_API_KEY');
    expect(key).toMatch(LLM_KEY_PATTERN);
    expect(await printenv(id, 'ANTHROPIC_API_KEY')).toBe(key);
    expect(await printenv(id, 'OPENAI_BASE_URL')).toMatch(/^http:\/\/[0-9.]+:\d+\/llm\/openai\/v1$/);
    // The patterns are bracketed (`sk-re[a]l…`), so the scan's own command line does not match them.
    const pattern = (secret: string) => `${secret.slice(0, 5)}[${secret[5]}]${secret.slice(6)}`;
    const scan = await client.exec(
      id,
      [
        'sh',
        '-c',
        'env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" "\\n"; grep -rIl -e "$1" -e "$2" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null; true',
        'scan',
        pattern(OPENAI_KEY),
        pattern(ANTHROPIC_KEY),
      ],
      120_000,
    );
    expect(scan.stdout).toContain(key);
    expect(scan.stdout).not.toContain(OPENAI_KEY);
    expect(scan.stdout).not.toContain(ANTHROPIC_KEY);
    for (const [where, text] of containerConfigs(stack.hostId)) {
      expect(text, where).not.toContain(OPENAI_KEY);
      expect(text, where).not.toContain(key);
    }
  }, 180_000);

  test('usage totals match what the providers reported, per workspace and in usage events', async () => {
    const id = await workspace();
    const before = { ...fake.reported };
    for (const name of ['openai-chat', 'openai-stream', 'anthropic-message', 'anthropic-stream']) expect((await call(id, name)).ok).toBe(true);
    const reported = { input: fake.reported.inputTokens - before.inputTokens, output: fake.reported.outputTokens - before.outputTokens };
    expect(reported.input).toBeGreaterThan(0);

    const r = await client.api('GET', `/api/containers/${id}/usage`);
    expect(r.status, r.text).toBe(200);
    const llm = UsageSchema.parse(r.json()).llm;
    expect(llm, r.text).toMatchObject({ requests: 4, inputTokens: reported.input, outputTokens: reported.output, keyActive: true });
    expect(llm!.byProvider.openai?.requests).toBe(2);
    expect(llm!.byProvider.anthropic?.requests).toBe(2);
    expect(llm!.costUsd).toBeGreaterThan(0); // gpt-fake is priced, claude-fake is not

    await waitFor('4 usage events', () => usageEvents.filter((e) => e.workspaceId === id).length >= 4, 10_000);
    const mine = usageEvents.filter((e) => e.workspaceId === id);
    expect(mine).toHaveLength(4);
    expect(mine.reduce((n, e) => n + e.inputTokens, 0)).toBe(reported.input);
    expect(mine.reduce((n, e) => n + e.outputTokens, 0)).toBe(reported.output);
    expect(mine.filter((e) => e.stream)).toHaveLength(2);
  }, 120_000);

  test("a revoked key and a deleted workspace's key get 401; a rotated key works", async () => {
    const id = await workspace();
    const other = await workspace();
    const key = await printenv(id, 'OPENAI_API_KEY');
    const baseUrls = { openai: await printenv(id, 'OPENAI_BASE_URL'), anthropic: await printenv(id, 'ANTHROPIC_BASE_URL') };
    expect((await call(id, 'openai-chat')).ok).toBe(true);

    expect((await client.api('DELETE', `/api/containers/${id}/llm-key`)).json()).toMatchObject({ id, llmKey: 'revoked' });
    // The old key, as an agent that read it earlier would still send it.
    // Commands started now get no LLM variables at all.
    expect(await printenv(id, 'OPENAI_API_KEY')).toBe('');
    const revoked = await call(id, 'openai-chat', { OPENAI_API_KEY: key, OPENAI_BASE_URL: baseUrls.openai });
    expect(revoked).toMatchObject({ ok: false, status: 401, name: 'AuthenticationError' });
    expect(await call(id, 'anthropic-message', { ANTHROPIC_API_KEY: key, ANTHROPIC_BASE_URL: baseUrls.anthropic })).toMatchObject({
      ok: false,
      status: 401,
      name: 'AuthenticationError',
    });
    expect(JSON.stringify(revoked)).not.toContain(key);

    expect((await client.api('POST', `/api/containers/${id}/llm-key`)).json()).toMatchObject({ id, llmKey: 'active' });
    const rotated = await printenv(id, 'OPENAI_API_KEY');
    expect(rotated).toMatch(LLM_KEY_PATTERN);
    expect(rotated).not.toBe(key);
    expect((await call(id, 'openai-chat')).ok).toBe(true);

    expect((await client.api('DELETE', `/api/containers/${id}`)).status).toBe(200);
    expect(await call(other, 'openai-chat', { OPENAI_API_KEY: rotated })).toMatchObject({ ok: false, status: 401, name: 'AuthenticationError' });
    expect((await call(other, 'openai-chat')).ok).toBe(true);
  }, 180_000);

  test("over the rate limit: 429 with Retry-After in the provider's format, then it recovers", async () => {
    const id = await workspace({ requestsPerMinute: 20 });
    const burst = await call(id, 'burst', undefined, '40');
    expect(burst.statuses!.filter((s) => s === 200).length).toBeGreaterThanOrEqual(19);
    expect(burst.limited).toMatchObject({ ok: false, status: 429, name: 'RateLimitError' });
    expect(Number(burst.limited!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(burst.limited!.retryAfter)).toBeLessThanOrEqual(3);
    expect(burst.limited!.error).toMatchObject({ code: 'rate_limit_exceeded' });
    expect(burst.after).toMatchObject({ ok: true });

    // A day's token budget: the first answer goes over it, the next call is refused until midnight UTC.
    const tokens = await workspace({ tokensPerDay: 1 });
    expect((await call(tokens, 'anthropic-message')).ok).toBe(true);
    const over = await call(tokens, 'anthropic-message');
    expect(over).toMatchObject({ ok: false, status: 429, name: 'RateLimitError', error: { type: 'error', error: { type: 'rate_limit_error' } } });
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(24 * 3600);

    // A spend cap, from the price table: gpt-fake costs $1 a token here.
    const spend = await workspace({ spendCapUsdPerDay: 0.5 });
    expect((await call(spend, 'openai-chat')).ok).toBe(true);
    expect(await call(spend, 'openai-chat')).toMatchObject({ ok: false, status: 429 });
  }, 180_000);

  test('a workspace cannot reach the fake providers except through egress', async () => {
    const id = await workspace();
    const port = new URL(fake.url).port;
    const gateway = execFileSync('docker', ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'berth-workspaces'], { encoding: 'utf8' }).trim();
    const probe = `const u=process.argv[1];fetch(u,{signal:AbortSignal.timeout(3000)}).then(r=>console.log('status',r.status),e=>console.log('failed',e.cause?.code??e.name))`;
    for (const host of ['127.0.0.1', gateway]) {
      const r = await client.exec(id, ['node', '-e', probe, `http://${host}:${port}/openai/v1/models`]);
      expect(r.stdout, host).toMatch(/^failed/);
    }
    // Through egress's forward proxy as an absolute URL: not on the allow-list.
    const proxy = new URL(await printenv(id, 'OPENAI_BASE_URL'));
    const viaProxyProbe = `require('http').get({host:'${proxy.hostname}',port:${proxy.port},path:'http://127.0.0.1:${port}/openai/v1/models'},r=>console.log('status',r.statusCode)).on('error',e=>console.log('failed',e.code))`;
    const viaProxy = await client.exec(id, ['node', '-e', viaProxyProbe]);
    expect(viaProxy.stdout.trim()).toBe('status 403');
  }, 60_000);

  test("after Redis loses everything, reconcile's sync brings the workspaces' keys back", async () => {
    const id = await workspace();
    expect((await call(id, 'openai-chat')).ok).toBe(true);
    const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    await redis.flushall().finally(() => redis.disconnect());
    // pool-manager rebuilds its state from Docker, then lists the claimed workspaces' key hashes.
    // Until then the workspace itself answers 404 (not rebuilt yet) or its key 401 (not synced yet).
    const answered = async () => (await runClient(id, 'openai-chat')).result?.ok === true;
    await waitFor('the key accepted again', answered, 30_000, 200);
  }, 60_000);

  test('the real keys are in no log, Redis entry or EVENTS message', async () => {
    const events = await streamMessages(nc, EVENTS.stream);
    const items: [string, string][] = [
      ...[stack.poolManager, stack.gateway, stack.logStreamer, stack.egress!].map((p): [string, string] => [`${p.service} log`, p.allOutput]),
      ...(await redisEntries(stack.redis.url)),
      ...events,
    ];
    expect(events.some(([where]) => where.includes('berth.evt.usage.'))).toBe(true);
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY]) expect(findSecret(items, secret)).toEqual([]);
    // Scoped keys are secrets too: only their hashes are kept.
    const scoped = [...stack.poolManager.allOutput.matchAll(/bk_[A-Za-z0-9_-]{43}/g), ...stack.egress!.allOutput.matchAll(/bk_[A-Za-z0-9_-]{43}/g)];
    expect(scoped).toEqual([]);
    expect(items.filter(([, text]) => /bk_[A-Za-z0-9_-]{43}/.test(text)).map(([where]) => where)).toEqual([]);
  }, 60_000);
});
