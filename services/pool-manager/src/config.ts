import { existsSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PoolConfigSchema, type PoolConfig } from '@berth/contracts';
import { commonConfigShape, envBool, envInt, envJson, loadConfig, templateImageTag } from '@berth/service-kit';
import { z } from 'zod';

const totalMemMb = Math.floor(totalmem() / 1024 / 1024);
/**
 * docker/agent of the checkout pool-manager runs from (scripts/up: a host process, so a host path);
 * '' in the service image, which has no docker/agent: in compose the operator gives host paths.
 */
const CHECKOUT_AGENT = ((dir) => (existsSync(join(dir, 'berth-agent.mjs')) ? dir : ''))(fileURLToPath(new URL('../../../docker/agent', import.meta.url)));
/** Debian's tini-static: runs in any image (no libc needed). */
const STATIC_TINI = '/usr/bin/tini-static';

const portRange = z
  .string()
  .regex(/^\d+-\d+$/, 'must look like 10000-20000')
  .transform((v) => v.split('-').map(Number) as [number, number])
  .refine(([lo, hi]) => lo >= 1024 && hi <= 65535 && lo <= hi, 'must be within 1024-65535, low-high');

export const poolManagerConfigSchema = z.object({
  ...commonConfigShape,
  POOLS: envJson(
    z
      .array(PoolConfigSchema)
      .min(1)
      .refine((pools) => pools[0]?.owner === undefined, "the first pool is every caller's default: it cannot be one owner's template pool"),
  ).default([{ name: 'default' }].map((p) => PoolConfigSchema.parse(p))),
  WORKSPACE_IMAGE: z.string().default('berth/workspace:latest'),
  /**
   * Comma-separated images a caller may ask for besides those labelled as workspace images
   * (WORKSPACE_IMAGE_LABEL): exact references, no prefixes. The default admits Artie's image.
   */
  ALLOWED_IMAGES: z
    .string()
    .default('node:24-slim')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** How long a cold-created container without an agent must keep running to count as started. */
  START_CHECK_MS: envInt(300, 0, 10_000),
  /** Named volumes (volumeName) one owner may keep on this host. */
  MAX_VOLUMES_PER_OWNER: envInt(20, 1, 10_000),
  PORT_RANGE: portRange.default([10000, 20000]),
  PORT_BIND_ADDRESS: z.ipv4().default('127.0.0.1'),
  WORKSPACE_NETWORK: z.string().default('berth-workspaces'),
  /**
   * Seals workspace ids and owners in engine-side container names (Docker's DNS shows them to every
   * workspace). Unset: a random key kept in AGENT_SOCKET_DIR/<host id>/name-key. Must stay the same
   * across restarts, or reconcile cannot read claimed workspaces' owners after a Redis loss.
   */
  WORKSPACE_NAME_KEY: z.string().min(32, 'must be at least 32 characters (scripts/bootstrap generates one)').optional(),
  WORKSPACE_TMPFS_MB: envInt(256, 16, 16_384),
  RECONCILE_INTERVAL_MS: envInt(15_000, 200, 3_600_000),
  /** Claimed containers idle for longer are removed. 0 disables reaping. */
  IDLE_TTL_MS: envInt(30 * 60_000, 0),
  /** The longest idle timeout a caller may set for a workspace (PATCH /api/containers/:id); never below IDLE_TTL_MS. */
  IDLE_TTL_MAX_MS: envInt(24 * 3600_000, 60_000),
  /** The `idle-warning` event goes out this long before an idle workspace is removed (at most half its timeout). */
  IDLE_WARNING_MS: envInt(5 * 60_000, 0),
  /** A paused workspace is removed after this long paused (a pool's pausedRetentionSeconds wins). 0 keeps paused workspaces. */
  PAUSED_RETENTION_MS: envInt(7 * 24 * 3600_000, 0),
  /** Network bytes (in + out) between two reaper checks that count as traffic, i.e. use of the workspace. */
  IDLE_NET_MIN_BYTES: envInt(1024, 1),
  /** A container record older than this without a Docker container is an orphan. */
  CREATE_GRACE_MS: envInt(60_000, 1_000),
  /** After a claim, wait this long before refilling the pool, so bursts of claims go first. */
  REFILL_DELAY_MS: envInt(250, 0, 60_000),
  MAX_CONTAINERS: envInt(100, 1, 10_000),
  MAX_MEMORY_MB: envInt(Math.floor(totalMemMb * 0.9), 64),
  DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
  HEALTH_PORT: envInt(9101, 0, 65535),
  HEALTH_BIND: z.string().default('127.0.0.1'),
  EVENTS_ENABLED: envBool(true),
  /** Host path of repo-cache's MIRRORS_DIR (same default), bind-mounted read-only into clone tasks. */
  MIRRORS_HOST_DIR: z.string().regex(/^\//, 'must be an absolute host path').default('/var/lib/berth/mirrors'),
  /** Image of the short-lived clone and cache tasks (needs git and node; runs as uid 1000 without network). */
  SETUP_TASK_IMAGE: z.string().optional(),
  SETUP_CLONE_TIMEOUT_MS: envInt(180_000, 1_000, 3_600_000),
  SETUP_INSTALL_TIMEOUT_MS: envInt(900_000, 1_000, 3_600_000),
  SETUP_START_TIMEOUT_MS: envInt(120_000, 1_000, 3_600_000),
  /**
   * Name prefix of the per-owner npm cache volumes, mounted at /home/berth/.npm in the owner's cold-created
   * workspaces (warm ones have no owner when made: no cache); `none` disables them (becomes '').
   */
  NPM_CACHE_VOLUME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
    .default('berth-npm-cache')
    .transform((v) => (v === 'none' ? '' : v)),
  /** Keep a per-repo copy of the last good node_modules and copy it into new checkouts of the same lockfile. */
  NODE_MODULES_SEED: envBool(true),
  /** Proxy (egress) that installs reach package registries through, e.g. http://egress:3128; empty: none. */
  SETUP_PROXY_URL: z.string().default(''),
  /**
   * Base URL of egress as workspaces reach it (its forward-proxy port, which also serves /llm/...),
   * given to every command as OPENAI_BASE_URL / ANTHROPIC_BASE_URL. Unset or empty: SETUP_PROXY_URL;
   * `none`, or neither set: LLM keys off.
   */
  LLM_EGRESS_URL: z.union([z.literal('none'), z.url({ protocol: /^https?$/ })]).optional(),
  /** Mint a scoped LLM key for every claimed workspace (needs an egress URL). */
  LLM_KEYS_ENABLED: envBool(true),
  /**
   * Each workspace's output budget: bytes per second pool-manager reads from all of its commands
   * together (exec, streaming exec, terminals, setup), and the burst it may read at once. Past it,
   * reading pauses (the commands block on their writes); nothing is dropped. The burst covers a
   * whole capped exec (1 MiB per stream); the rate is far above a build log and keeps eight
   * flooding workspaces to two capped execs a second together.
   */
  OUTPUT_RATE_BYTES_PER_S: envInt(256 * 1024, 1024),
  OUTPUT_BURST_BYTES: envInt(2 * 1024 * 1024, 64 * 1024),
  /** The largest file (or tar) one upload may write into a workspace; past it: 413 FILE_TOO_LARGE, nothing written. */
  FILES_MAX_UPLOAD_BYTES: envInt(1024 * 1024 * 1024, 1),
  /** Files watches (docs/files.md "Watch"): per workspace, a closed one counting until its resume window is over. */
  FILES_WATCH_MAX_PER_WORKSPACE: envInt(4, 1, 64),
  /** Entries one watch may cover (the agent scans them all every poll); past it: WATCH_TOO_LARGE. */
  FILES_WATCH_MAX_ENTRIES: envInt(20_000, 1, 200_000),
  /** The agent scans at most this often (and never more than 1/20 of a core per watch). */
  FILES_WATCH_INTERVAL_MS: envInt(250, 100, 60_000),
  /** How long a watch whose stream went away keeps running for a Last-Event-ID resume, and the events it keeps. */
  FILES_WATCH_RESUME_MS: envInt(30_000, 0, 600_000),
  FILES_WATCH_BUFFER_EVENTS: envInt(1_000, 16, 100_000),
  /** Commands go through the workspace agent (docker/agent) where the image has one; false: always `docker exec`. */
  AGENTS_ENABLED: envBool(true),
  /**
   * Host directory of the workspaces' agent sockets (`<dir>/<hostId>/<id>`, mounted at /run/berth).
   * In compose, mount it into pool-manager at the same path: Docker resolves bind sources on the host.
   */
  AGENT_SOCKET_DIR: z.string().default(join(tmpdir(), 'berth-agents')),
  /**
   * Host paths of berth's agent files (docker/agent) and of a static tini, bind-mounted read-only
   * into workspaces of images without the agent (node:24-slim); the image's own node runs it when it
   * is new enough. Without either, such workspaces use `docker exec`. The defaults (this checkout's
   * docker/agent, Debian's tini-static) apply when pool-manager runs from a checkout; in compose, give host paths.
   */
  AGENT_FILES_DIR: z.string().default(CHECKOUT_AGENT),
  AGENT_TINI: z.string().default(CHECKOUT_AGENT && existsSync(STATIC_TINI) ? STATIC_TINI : ''),
  /**
   * Host directory (root-only) of the workspaces' disk images: a create's diskMb becomes an ext4
   * image there on a loop device, mounted at /workspace (docs/limits.md). Needs pool-manager to run
   * as root on the host. Empty: diskMb is refused with LIMIT_UNSUPPORTED.
   */
  WORKSPACE_DISK_DIR: z
    .string()
    .regex(/^(\/.*)?$/, 'must be an absolute host path')
    .default(''),
  /** Docker's json-file rotation of every workspace's output: size of one file (Docker's units: 10m) and files kept. */
  WORKSPACE_LOG_MAX_SIZE: z
    .string()
    .regex(/^\d+[kmg]$/, 'a size like 10m')
    .default('10m'),
  WORKSPACE_LOG_MAX_FILES: envInt(3, 1, 100),
});

export type PoolManagerConfig = Omit<z.infer<typeof poolManagerConfigSchema>, 'POOLS' | 'SETUP_TASK_IMAGE' | 'LLM_EGRESS_URL'> & {
  POOLS: PoolConfig[];
  SETUP_TASK_IMAGE: string;
  /** Resolved: '' when LLM keys are off. */
  LLM_EGRESS_URL: string;
};

export function loadPoolManagerConfig(env: Record<string, string | undefined> = process.env): PoolManagerConfig {
  const raw = loadConfig(poolManagerConfigSchema, env);
  return {
    ...raw,
    SETUP_TASK_IMAGE: raw.SETUP_TASK_IMAGE ?? raw.WORKSPACE_IMAGE,
    // '' means off: disabled, or no URL of egress to give the workspaces.
    LLM_EGRESS_URL: raw.LLM_KEYS_ENABLED && raw.LLM_EGRESS_URL !== 'none' ? (raw.LLM_EGRESS_URL ?? raw.SETUP_PROXY_URL).replace(/\/+$/, '') : '',
    POOLS: raw.POOLS.map((p) => ({ ...p, image: p.template && p.owner ? templateImageTag(p.owner, p.template) : (p.image ?? raw.WORKSPACE_IMAGE) })),
  };
}
