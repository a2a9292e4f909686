import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED_LABELS, VOLUME_LABELS, WORKLOAD_LABELS } from '@berth/contracts';
import { freePort, portRange, ServiceProcess, startNatsServer, startRedisServer, type ServerProcess } from '@berth/service-kit/testing';
import type { ApiKeyEntry } from '@berth/gateway';
import { ensureWorkspaceNetwork, installWorkspaceFirewall, removeWorkspaceFirewall } from './workspace-net.js';

export interface LocalStack {
  url: string;
  token: string;
  hostId: string;
  /** The gateway's BERTH_API_KEYS_FILE when started with `keys`; rewrite it with `writeKeys`. */
  keysFile: string | undefined;
  writeKeys(keys: ApiKeyEntry[]): void;
  nats: ServerProcess & { url: string };
  redis: ServerProcess & { url: string };
  poolManager: ServiceProcess;
  gateway: ServiceProcess;
  logStreamer: ServiceProcess;
  /** Present when started with `repoCache`. */
  repoCache?: ServiceProcess;
  /** Present when started with `egress`; `proxyUrl` is its forward proxy. */
  egress?: ServiceProcess;
  egressProxyUrl?: string;
  /** With `egress`: egress's proxy port as workspaces reach it (the bridge gateway), pool-manager's LLM_EGRESS_URL. */
  llmEgressUrl?: string;
  imageBuilder?: ServiceProcess;
  stop(): Promise<void>;
  /** The last output of each service, for a failure message. */
  outputTail(): string;
}

/**
 * NATS, Redis, pool-manager and gateway as real processes on loopback: what `scripts/up` runs,
 * isolated by host id and port range so it can run beside a developer's own berth.
 */
export interface LocalStackOptions {
  /** The API token; random by default. */
  token?: string;
  /** Extra gateway env (rate limits, body limit, ...). */
  gatewayEnv?: Record<string, string>;
  logStreamerEnv?: Record<string, string>;
  /** API keys for BERTH_API_KEYS_FILE (the token stays valid too); see `pnpm berth-key` / mintKey. */
  keys?: ApiKeyEntry[];
  /** Keep every log line of both services in `allOutput`, not just the last 20 kB. */
  keepAllOutput?: boolean;
  /**
   * Runs repo-cache too, with its mirrors in `mirrorsDir` (also pool-manager's MIRRORS_HOST_DIR) and
   * `githubUrl` as upstream (a FakeGitHub), for repository setup.
   */
  repoCache?: { mirrorsDir: string; githubUrl: string; env?: Record<string, string> };
  /**
   * Runs egress too (callbacks; repo-cache fetches through its proxy). `allowCidrs` is its
   * CALLBACK_ALLOW_CIDRS (e.g. 127.0.0.1/32 for a local receiver); `githubUrl` is allow-listed.
   */
  egress?: { githubUrl: string; allowCidrs?: string; env?: Record<string, string>; llm?: LocalStackLlmOptions };
  /** Runs image-builder too (main images from `buildMainImage` setups). */
  imageBuilder?: boolean;
  /** Extra image-builder env (template limits, ...). */
  imageBuilderEnv?: Record<string, string>;
}

/** egress's LLM providers (e.g. fake ones on the host) and their real keys. */
interface LocalStackLlmOptions {
  openaiBaseUrl?: string;
  anthropicBaseUrl?: string;
  openaiKey?: string;
  anthropicKey?: string;
}

function llmEgressEnv(llm: LocalStackLlmOptions | undefined): Record<string, string> {
  if (!llm) return {};
  const pairs: [string, string | undefined][] = [
    ['LLM_OPENAI_BASE_URL', llm.openaiBaseUrl],
    ['LLM_OPENAI_API_KEY', llm.openaiKey],
    ['LLM_ANTHROPIC_BASE_URL', llm.anthropicBaseUrl],
    ['LLM_ANTHROPIC_API_KEY', llm.anthropicKey],
  ];
  return Object.fromEntries(pairs.filter((p): p is [string, string] => p[1] !== undefined));
}

export async function startLocalStack(poolEnv: Record<string, string>, logLevel = 'warn', opts: LocalStackOptions = {}): Promise<LocalStack> {
  const [nats, redis, port, proxyPort] = await Promise.all([startNatsServer(), startRedisServer(), freePort(), freePort()]);
  const hostId = `b-${randomBytes(4).toString('hex')}`;
  const token = opts.token ?? randomBytes(24).toString('hex');
  const common = { NATS_URL: nats.url, REDIS_URL: redis.url, BERTH_HOST_ID: hostId, LOG_LEVEL: logLevel };
  const keep = { keepAllOutput: opts.keepAllOutput ?? false };
  const keysFile = opts.keys ? join(mkdtempSync(join(tmpdir(), 'berth-keys-')), 'keys.json') : undefined;
  const writeKeys = (keys: ApiKeyEntry[]) => {
    if (!keysFile) throw new Error('stack started without keys');
    writeFileSync(`${keysFile}.tmp`, JSON.stringify(keys));
    renameSync(`${keysFile}.tmp`, keysFile);
  };
  if (opts.keys) writeKeys(opts.keys);
  const keysEnv: Record<string, string> = keysFile ? { BERTH_API_KEYS_FILE: keysFile } : {};
  const setupEnv: Record<string, string> = opts.repoCache ? { MIRRORS_HOST_DIR: opts.repoCache.mirrorsDir } : {};
  // As scripts/up: the network with berth's options, then the firewall that leaves its workspaces
  // only egress's proxy port (this stack's, on the bridge gateway), before pool-manager starts.
  const network = poolEnv.WORKSPACE_NETWORK ?? 'berth-workspaces';
  const gatewayIp = ensureWorkspaceNetwork(network);
  installWorkspaceFirewall(network, proxyPort);
  const wsGateway = opts.egress ? gatewayIp : '';
  const llmEgressUrl = wsGateway ? `http://${wsGateway}:${proxyPort}` : undefined;
  const poolManager = new ServiceProcess(
    'pool-manager',
    {
      ...common,
      HEALTH_PORT: '0',
      WORKSPACE_NETWORK: network,
      PORT_RANGE: portRange().spec,
      ...setupEnv,
      ...(llmEgressUrl && { LLM_EGRESS_URL: llmEgressUrl }),
      ...poolEnv,
    },
    keep,
  );
  const egressProxyUrl = opts.egress ? `http://127.0.0.1:${proxyPort}` : undefined;
  const egress = opts.egress
    ? new ServiceProcess(
        'egress',
        {
          ...common,
          EGRESS_HEALTH_PORT: '0',
          EGRESS_PROXY_PORT: String(proxyPort),
          EGRESS_PROXY_BIND: `127.0.0.1${wsGateway ? `,${wsGateway}` : ''}`,
          EGRESS_SECRET_KEY: randomBytes(32).toString('hex'),
          GITHUB_URL: opts.egress.githubUrl,
          CALLBACK_ALLOW_CIDRS: opts.egress.allowCidrs ?? '',
          CALLBACK_RETRY_BASE_MS: '100',
          ...llmEgressEnv(opts.egress.llm),
          ...opts.egress.env,
        },
        keep,
      )
    : undefined;
  const repoCache = opts.repoCache
    ? new ServiceProcess(
        'repo-cache',
        {
          ...common,
          REPO_CACHE_HEALTH_PORT: '0',
          MIRRORS_DIR: opts.repoCache.mirrorsDir,
          GITHUB_URL: opts.repoCache.githubUrl,
          ...(egressProxyUrl && { EGRESS_PROXY_URL: egressProxyUrl }),
          ...opts.repoCache.env,
        },
        keep,
      )
    : undefined;
  const imageBuilder = opts.imageBuilder
    ? new ServiceProcess(
        'image-builder',
        {
          ...common,
          IMAGE_BUILDER_HEALTH_PORT: '0',
          // As scripts/up: RUN steps on the workspaces' network, through egress's proxy when it runs.
          TEMPLATE_BUILD_NETWORK: network,
          ...(llmEgressUrl && { TEMPLATE_BUILD_PROXY_URL: llmEgressUrl }),
          ...opts.imageBuilderEnv,
        },
        keep,
      )
    : undefined;
  repoCache?.start();
  egress?.start();
  imageBuilder?.start();
  const gateway = new ServiceProcess(
    'gateway',
    { ...common, BERTH_PORT: String(port), BERTH_BIND: '127.0.0.1', BERTH_API_TOKEN: token, ...keysEnv, ...opts.gatewayEnv },
    keep,
  );
  const logStreamer = new ServiceProcess(
    'log-streamer',
    { ...common, LOG_STREAMER_HEALTH_PORT: '0', LOGS_RESCAN_INTERVAL_MS: '1000', ...opts.logStreamerEnv },
    keep,
  );
  poolManager.start();
  logStreamer.start();
  gateway.start();
  const stop = async () => {
    await gateway.kill('SIGTERM');
    await logStreamer.kill('SIGTERM');
    await repoCache?.kill('SIGTERM');
    await egress?.kill('SIGTERM');
    await imageBuilder?.kill('SIGTERM');
    await poolManager.kill('SIGTERM');
    removeHostContainers(hostId);
    removeWorkspaceFirewall(network, proxyPort);
    await Promise.all([nats.dispose(), redis.dispose()]);
    if (keysFile) rmSync(join(keysFile, '..'), { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (
      Date.now() > deadline ||
      !poolManager.running ||
      !gateway.running ||
      !logStreamer.running ||
      (repoCache && !repoCache.running) ||
      (egress && !egress.running) ||
      (imageBuilder && !imageBuilder.running)
    ) {
      const error = new Error(
        `stack did not become healthy:\n${poolManager.output}\n${gateway.output}\n${logStreamer.output}\n${repoCache?.output ?? ''}\n${egress?.output ?? ''}`,
      );
      // A run that gives up leaves nothing behind: services, workspaces, firewall rules.
      await stop();
      throw error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    token,
    hostId,
    keysFile,
    writeKeys,
    nats,
    redis,
    poolManager,
    gateway,
    logStreamer,
    ...(repoCache && { repoCache }),
    ...(egress && { egress, egressProxyUrl, llmEgressUrl }),
    ...(imageBuilder && { imageBuilder }),
    outputTail: () =>
      [poolManager, gateway, logStreamer, ...[repoCache, egress, imageBuilder].filter((p) => p !== undefined)]
        .map((p) => `${p.service} output:\n${p.output.slice(-3000)}`)
        .join('\n'),
    stop,
  };
}

/**
 * Removes every container (workspaces and setup tasks) and volume (workspaces, node_modules seeds,
 * owners' named volumes and npm caches) pool-manager made for this host id. A task container a stopping pool-manager was still removing
 * can hold a volume for a moment: retried.
 */
export function removeHostContainers(hostId: string): void {
  rmSync(join(tmpdir(), 'berth-agents', hostId), { recursive: true, force: true });
  for (let attempt = 1; ; attempt++) {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${WORKLOAD_LABELS.host}=${hostId}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore' });
    const volumes = [WORKLOAD_LABELS.host, SEED_LABELS.host, VOLUME_LABELS.host]
      .flatMap((label) => execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=${label}=${hostId}`], { encoding: 'utf8' }).split('\n'))
      .filter(Boolean);
    try {
      if (volumes.length) execFileSync('docker', ['volume', 'rm', '-f', ...volumes], { stdio: 'ignore' });
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      execFileSync('sleep', ['1']);
    }
  }
}
