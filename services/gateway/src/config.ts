import { isIP } from 'node:net';
import { z } from 'zod';
import { HOST_LOST_AFTER_MS, PlacementPolicySchema, STREAM_LEASE_MS, TEMPLATE_CONTEXT_HARD_MAX_BYTES } from '@berth/contracts';
import { commonConfigShape, envInt, loadConfig } from '@berth/service-kit';
import { parseCorsOrigins } from './cors.js';

export const GatewayConfigSchema = z
  .object({
    ...commonConfigShape,
    BERTH_PORT: envInt(8080, 1, 65_535),
    /** Loopback unless told otherwise: the container image sets 0.0.0.0 behind its published port. */
    BERTH_BIND: z.string().min(1).default('127.0.0.1'),
    /** One shared secret, accepted as an admin key of owner 'default' (as before API keys); optional with a keys file. */
    BERTH_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** JSON array of API keys ({name, hash, scopes, owner, rateLimit?}); reloaded on change and on SIGHUP. */
    BERTH_API_KEYS_FILE: z.string().min(1).optional(),
    /** How often the keys file is checked for changes. */
    KEYS_RELOAD_INTERVAL_MS: envInt(1000, 50, 600_000),
    BODY_LIMIT_BYTES: envInt(1024 * 1024, 1024, 64 * 1024 * 1024),
    /** Default NATS request timeout for pool-manager calls, and the HTTP server's request-receive timeout. */
    REQUEST_TIMEOUT_MS: envInt(30_000, 100, 600_000),
    /** Per-caller token bucket on /api (per gateway process); RATE_LIMIT_RPS=0 disables it. */
    RATE_LIMIT_RPS: envInt(50, 0, 1_000_000),
    RATE_LIMIT_BURST: envInt(100, 1, 1_000_000),
    /** Failed authentications per remote address per minute before it gets 429s; 0 disables. */
    AUTH_FAILURES_PER_MINUTE: envInt(30, 0, 1_000_000),
    /**
     * Off by default: the client address (failed-auth limits, logs) is the socket's peer and
     * X-Forwarded-For is ignored. Behind reverse proxies: a comma-separated list of the proxies'
     * addresses/CIDRs, or a hop count (trusted whoever the peer is: only when nothing but the
     * proxies can reach the gateway); the client then comes from X-Forwarded-For.
     */
    TRUST_PROXY: z
      .string()
      .default('')
      .transform((v, ctx) => parseTrustProxy(v, ctx)),
    /**
     * Browser origins allowed to call the API (CORS), exact and comma-separated, e.g.
     * `https://app.example.com,http://localhost:5173`. Empty (the default): no CORS headers at all.
     */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v, ctx) => {
        const { origins, bad } = parseCorsOrigins(v);
        if (bad.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `expected origins like https://app.example.com (scheme, host, optional port; no path, no *); not: ${bad.join(', ')}`,
          });
          return z.NEVER;
        }
        return origins;
      }),
    /** A stream (streaming exec, terminal) whose pool-manager sends nothing for this long is ended, ms; above its 5 s keepalive. */
    STREAM_LEASE_MS: envInt(STREAM_LEASE_MS, 6_000, 600_000),
    /** Where workspaces publish their ports (pool-manager's PORT_BIND_ADDRESS); previews connect only there. */
    PREVIEW_UPSTREAM_HOST: z.ipv4().default('127.0.0.1'),
    /** Host-form previews on `<port>-<id>.<domain>` (a wildcard DNS name pointing at the gateway); off when empty. */
    BERTH_PREVIEW_DOMAIN: z
      .string()
      .regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i, 'a DNS name like preview.example.com')
      .optional(),
    /** How callers reach the gateway (e.g. https://berth.example.com), for share links; the request's own scheme and Host otherwise. */
    BERTH_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** At most one idle-reaper keepalive per workspace this often for its preview traffic, ms. */
    PREVIEW_ACTIVITY_EVERY_MS: envInt(30_000, 1_000, 3_600_000),
    /**
     * How long the gateway reuses pool-manager's port map of a container for previews, ms; 0 asks on
     * every request. Bounds how long a removed container's old host port may still be tried.
     */
    PREVIEW_RESOLVE_CACHE_MS: envInt(1_000, 0, 10_000),
    /** Which Docker host a create goes to: `spread` (least loaded first) or `pack` (fill one host first). docs/scale-out.md. */
    HOST_PLACEMENT: PlacementPolicySchema.default('spread'),
    /** A host whose heartbeats stopped this long ago is `lost`, ms (three missed 1 s beats by default). */
    HOST_LOST_AFTER_MS: envInt(HOST_LOST_AFTER_MS, 1_500, 60_000),
    // w5-templates-api (image-builder reads the same two)
    /** Largest tar context of `POST /api/templates`, bytes; larger is 413 PAYLOAD_TOO_LARGE before any host sees it. */
    TEMPLATE_CONTEXT_MAX_BYTES: envInt(64 * 1024 * 1024, 1024, TEMPLATE_CONTEXT_HARD_MAX_BYTES),
    /** image-builder stops a template build after this long; the gateway's stream waits a minute longer. */
    TEMPLATE_BUILD_TIMEOUT_MS: envInt(600_000, 1_000, 3_600_000),
  })
  .superRefine((c, ctx) => {
    if (c.BERTH_API_TOKEN === undefined && c.BERTH_API_KEYS_FILE === undefined) {
      ctx.addIssue({ code: 'custom', path: ['BERTH_API_TOKEN'], message: 'set BERTH_API_TOKEN or BERTH_API_KEYS_FILE (or both)' });
    }
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

/** TRUST_PROXY as fastify's `trustProxy`: false, a hop count, or a list of addresses/CIDRs. */
function parseTrustProxy(raw: string, ctx: z.RefinementCtx): false | number | string[] {
  const v = raw.trim();
  if (v === '' || v === 'false' || v === '0') return false;
  if (/^\d+$/.test(v)) return Math.min(Number(v), 100);
  const entries = v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !isAddressOrCidr(e));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `expected a hop count or a comma-separated list of IP addresses/CIDRs; not: ${bad.join(', ')}` });
    return z.NEVER;
  }
  return entries;
}

function isAddressOrCidr(e: string): boolean {
  const [addr = '', bits, extra] = e.split('/');
  if (extra !== undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig(GatewayConfigSchema, env);
}
