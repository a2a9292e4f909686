import { commonConfigShape, envBool, envInt, envJson, loadConfig } from '@berth/service-kit';
import { BlockList } from 'node:net';
import { z } from 'zod';
import { parseAllowList } from './proxy/allow-list.js';
import { PricesSchema } from './llm/prices.js';

export const DEFAULT_ALLOW_HOSTS = 'github.com,codeload.github.com,objects.githubusercontent.com,registry.npmjs.org,registry.yarnpkg.com';

/** A comma list that must parse with `parse` (which throws a readable message). */
const checkedList = (def: string, parse: (v: string) => unknown) =>
  z
    .string()
    .default(def)
    .superRefine((v, ctx) => {
      try {
        parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    });

/** `CALLBACK_ALLOW_CIDRS`: `a.b.c.d/n` or `v6::/n`, comma-separated. Throws on a bad entry. */
export function parseCidrs(list: string): BlockList {
  const blocks = new BlockList();
  for (const entry of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    const family = m ? (m[1]!.includes(':') ? 'ipv6' : 'ipv4') : undefined;
    try {
      if (!m || !family) throw new Error();
      blocks.addSubnet(m[1]!, Number(m[2]), family);
    } catch {
      throw new Error(`"${entry}" is not a CIDR range like 127.0.0.1/32`);
    }
  }
  return blocks;
}

export const egressConfigSchema = z.object({
  ...commonConfigShape,
  /** Forward proxy port; 0 disables the proxy. */
  EGRESS_PROXY_PORT: envInt(3128, 0, 65535),
  /** Addresses the proxy listens on, comma-separated (in local mode: 127.0.0.1 and the workspaces' bridge gateway). */
  EGRESS_PROXY_BIND: checkedList('127.0.0.1', (v) => {
    if (!v.split(',').some((s) => s.trim())) throw new Error('names no address');
  }),
  /** Hosts the proxy lets through: `host` (ports 80 and 443), `host:port` or `*.domain`. */
  EGRESS_ALLOW_HOSTS: checkedList(DEFAULT_ALLOW_HOSTS, parseAllowList),
  /** Its host (and port) is allow-listed too; tests point it at a local fake GitHub. */
  GITHUB_URL: z.url({ protocol: /^https?$/ }).default('https://github.com'),
  EGRESS_CONNECT_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** A proxied connection with no bytes either way for this long is closed. */
  EGRESS_IDLE_TIMEOUT_MS: envInt(120_000, 1_000, 3_600_000),
  /** Master key for the callback registrations egress keeps in Redis (AES-256-GCM under an HKDF-derived key). */
  EGRESS_SECRET_KEY: z.string({ error: 'is required (scripts/bootstrap generates it)' }).min(32, 'must be at least 32 characters'),
  /** DEV/TEST ONLY: ranges a callback URL may reach although they are private (e.g. 127.0.0.1/32 for a test receiver). */
  CALLBACK_ALLOW_CIDRS: checkedList('', parseCidrs),
  CALLBACK_TTL_SECONDS: envInt(24 * 3600, 60, 30 * 24 * 3600),
  CALLBACK_RETRY_BASE_MS: envInt(500, 1, 600_000),
  CALLBACK_RETRY_MAX_MS: envInt(60_000, 1, 3_600_000),
  CALLBACK_MAX_ATTEMPTS: envInt(8, 1, 100),
  /** One delivery attempt (connect, send, response) must finish within this. */
  CALLBACK_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** Workspaces whose callbacks are delivered at the same time (one status at a time per workspace). */
  CALLBACK_CONCURRENCY: envInt(16, 1, 1024),
  /** JetStream ack wait of the delivery consumer; also how long a restart waits for a previous run's unacked statuses. */
  CALLBACK_ACK_WAIT_MS: envInt(30_000, 1_000, 600_000),
  /** Statuses held (fetched, not yet acked) at most. */
  CALLBACK_MAX_PENDING: envInt(1000, 1, 100_000),
  /** Run the delivery consumer. Run it in ONE egress process: per-workspace order is kept within a process. */
  CALLBACK_DELIVERY_ENABLED: envBool(true),
  // LLM reverse proxy (served on the proxy's port under /llm/; see docs/llm.md).
  /** OpenAI-compatible API base; requests go to `<base>/<path>` (e.g. `<base>/chat/completions`). */
  LLM_OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.openai.com/v1'),
  /** The real OpenAI key; empty: the provider is not configured (503). */
  LLM_OPENAI_API_KEY: z.string().default(''),
  /** Anthropic API base; requests go to `<base>/v1/<path>`. */
  LLM_ANTHROPIC_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.anthropic.com'),
  /** The real Anthropic key; empty: the provider is not configured (503). */
  LLM_ANTHROPIC_API_KEY: z.string().default(''),
  /** Largest request body egress forwards (413 above). */
  LLM_MAX_BODY_BYTES: envInt(32 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  /** Time the provider has to send response headers (502 after). */
  LLM_UPSTREAM_TIMEOUT_MS: envInt(600_000, 100, 3_600_000),
  /** Per-workspace defaults, also the ceiling of the limits a caller sets at create. */
  LLM_WORKSPACE_REQUESTS_PER_MINUTE: envInt(60, 1, 1_000_000),
  LLM_WORKSPACE_TOKENS_PER_DAY: envInt(2_000_000, 1, 1e12),
  /** USD per UTC day; 0: no spend cap. */
  LLM_WORKSPACE_SPEND_CAP_USD_PER_DAY: z.coerce.number().min(0).max(1_000_000).default(0),
  /** Per-owner (the API key that created the workspaces) limits, over all its workspaces. */
  LLM_OWNER_REQUESTS_PER_MINUTE: envInt(600, 1, 1_000_000),
  LLM_OWNER_TOKENS_PER_DAY: envInt(20_000_000, 1, 1e12),
  LLM_OWNER_SPEND_CAP_USD_PER_DAY: z.coerce.number().min(0).max(1_000_000).default(0),
  /** JSON `{"<model or prefix*>": {"inputPerMTok": n, "outputPerMTok": n}}` in USD; unpriced models cost 0. */
  LLM_PRICES: envJson(PricesSchema).default({}),
  /** Its own name: every service reads the same .env. */
  EGRESS_HEALTH_PORT: envInt(9105, 0, 65535),
  HEALTH_BIND: z.string().default('127.0.0.1'),
});

export type EgressConfig = z.infer<typeof egressConfigSchema>;

export function loadEgressConfig(env: Record<string, string | undefined> = process.env): EgressConfig {
  return loadConfig(egressConfigSchema, env);
}
