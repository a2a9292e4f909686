import { createHash, randomBytes } from 'node:crypto';
import type { LlmLimits, LlmUsage } from '@berth/contracts';
import { connectNats, createLogger, drainNats, newBerthKey, request, type NatsConnection } from '@berth/service-kit';
import { freePort, startNatsServer, startRedisServer, type ServerProcess, type ServiceProcess } from '@berth/service-kit/testing';
import { startFakeLlm, type FakeLlm, type FakeLlmOptions } from '../../../test/support/fake-llm.js';
import { newWorkspaceId, startEgress } from './helpers.js';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface LlmStack {
  nats: ServerProcess & { url: string };
  redis: ServerProcess & { url: string };
  fake: FakeLlm;
  egress: ServiceProcess;
  port: number;
  nc: NatsConnection;
  openaiKey: string;
  anthropicKey: string;
  openaiBase: string;
  anthropicBase: string;
  /** Registers a new key for a new (or the given) workspace. */
  register(opts?: { workspaceId?: string; owner?: string; hostId?: string; limits?: LlmLimits }): Promise<{ workspaceId: string; key: string }>;
  revoke(workspaceId: string): Promise<boolean>;
  usage(workspaceId: string): Promise<LlmUsage>;
  close(): Promise<void>;
}

/** Real nats-server, redis-server and egress process, in front of the fake providers. */
export async function startLlmStack(env: Record<string, string> = {}, fakeOpts: Partial<FakeLlmOptions> = {}): Promise<LlmStack> {
  const openaiKey = `sk-real-${randomBytes(16).toString('hex')}`;
  const anthropicKey = `sk-ant-real-${randomBytes(16).toString('hex')}`;
  const [nats, redis, fake, port] = await Promise.all([
    startNatsServer(),
    startRedisServer(),
    startFakeLlm({ openaiKey, anthropicKey, ...fakeOpts }),
    freePort(),
  ]);
  const egress = await startEgress({
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    EGRESS_PROXY_PORT: String(port),
    EGRESS_ALLOW_HOSTS: 'example.invalid',
    LLM_OPENAI_BASE_URL: fake.openaiBaseUrl,
    LLM_OPENAI_API_KEY: openaiKey,
    LLM_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
    LLM_ANTHROPIC_API_KEY: anthropicKey,
    ...env,
  });
  const nc = await connectNats({ url: nats.url, name: 'llm-test', logger: createLogger('llm-test', 'silent') });
  return {
    nats,
    redis,
    fake,
    egress,
    port,
    nc,
    openaiKey,
    anthropicKey,
    openaiBase: `http://127.0.0.1:${port}/llm/openai/v1`,
    anthropicBase: `http://127.0.0.1:${port}/llm/anthropic`,
    async register(o = {}) {
      const workspaceId = o.workspaceId ?? newWorkspaceId();
      const key = newBerthKey();
      await request(nc, 'llmKeyRegister', {
        workspaceId,
        owner: o.owner ?? 'test-owner',
        hostId: o.hostId ?? 'test-host',
        keyHash: sha256(key),
        limits: o.limits,
      });
      return { workspaceId, key };
    },
    async revoke(workspaceId) {
      return (await request(nc, 'llmKeyRevoke', { workspaceId })).revoked;
    },
    usage: (workspaceId) => request(nc, 'llmUsage', { workspaceId }),
    async close() {
      await egress.kill('SIGTERM');
      await drainNats(nc);
      await fake.close();
      await Promise.all([nats.dispose(), redis.dispose()]);
    },
  };
}

/** A raw HTTP call to egress (for exact bodies and headers the SDKs hide). */
export async function raw(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: init.method ?? (init.body ? 'POST' : 'GET'), headers: init.headers, body: init.body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
