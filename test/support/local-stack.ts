import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiKeyEntry } from '../../services/gateway/src/keys/api-key.js';
import { startNatsServer, startRedisServer, freePort, ServiceProcess, type ServerProcess } from '@berth/service-kit/testing';

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
}

export async function startLocalStack(poolEnv: Record<string, string>, logLevel = 'warn', opts: LocalStackOptions = {}): Promise<LocalStack> {
  const [nats, redis, port] = await Promise.all([startNatsServer(), startRedisServer(), freePort()]);
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
  const poolManager = new ServiceProcess('pool-manager', { ...common, HEALTH_PORT: '0', ...poolEnv }, keep);
  const gateway = new ServiceProcess('gateway', { ...common, BERTH_PORT: String(port), BERTH_BIND: '127.0.0.1', BERTH_API_TOKEN: token, ...keysEnv, ...opts.gatewayEnv }, keep);
  const logStreamer = new ServiceProcess('log-streamer', { ...common, LOG_STREAMER_HEALTH_PORT: '0', LOGS_RESCAN_INTERVAL_MS: '1000', ...opts.logStreamerEnv }, keep);
  poolManager.start();
  logStreamer.start();
  gateway.start();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline || !poolManager.running || !gateway.running || !logStreamer.running) {
      throw new Error(`stack did not become healthy:\n${poolManager.output}\n${gateway.output}\n${logStreamer.output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url, token, hostId, keysFile, writeKeys, nats, redis, poolManager, gateway, logStreamer,
    outputTail: () => [poolManager, gateway, logStreamer].map((p) => `${p.service} output:\n${p.output.slice(-3000)}`).join('\n'),
    stop: async () => {
      await gateway.kill('SIGTERM');
      await logStreamer.kill('SIGTERM');
      await poolManager.kill('SIGTERM');
      removeHostContainers(hostId);
      await Promise.all([nats.dispose(), redis.dispose()]);
      if (keysFile) rmSync(join(keysFile, '..'), { recursive: true, force: true });
    },
  };
}

/** Removes every container and workspace volume pool-manager made for this host id. */
export function removeHostContainers(hostId: string): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=berth.host=${hostId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (ids.length) execFileSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore' });
  const volumes = execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=berth.host=${hostId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (volumes.length) execFileSync('docker', ['volume', 'rm', '-f', ...volumes], { stdio: 'ignore' });
}
