import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub } from './fake-github.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './local-stack.js';
import { apiClient } from './setup-client.js';

export const NODE_APP_FIXTURE = join(import.meta.dirname, '../fixtures/node-app');

export interface SetupFixture {
  stack: LocalStack;
  github: FakeGitHub;
  mirrors: string;
  client: ReturnType<typeof apiClient>;
  stop(): Promise<void>;
}

/**
 * A local stack with repo-cache and a fake GitHub holding `acme/app` (the node-app fixture,
 * private with `token`). Each call gets its own mirrors directory and host id.
 */
export async function startSetupFixture(
  token: string,
  poolEnv: Record<string, string> = {},
  opts: LocalStackOptions & { egressAllowCidrs?: string; withEgress?: boolean; egressEnv?: Record<string, string>; logLevel?: string } = {},
): Promise<SetupFixture> {
  const github = await FakeGitHub.start();
  await github.createRepo('acme/app', { fromDir: NODE_APP_FIXTURE, token });
  const mirrors = mkdtempSync(join(tmpdir(), 'berth-mirrors-'));
  // The clone task reads the mirrors as uid 1000.
  chmodSync(mirrors, 0o755);
  const stack = await startLocalStack(
    {
      POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 2, memoryMb: 512, pids: 256 }]),
      MAX_CONTAINERS: '12',
      ...poolEnv,
    },
    opts.logLevel ?? 'info',
    {
      keepAllOutput: true,
      ...opts,
      repoCache: { mirrorsDir: mirrors, githubUrl: github.url, ...opts.repoCache },
      ...(opts.withEgress && { egress: { githubUrl: github.url, allowCidrs: opts.egressAllowCidrs ?? '', ...(opts.egressEnv && { env: opts.egressEnv }) } }),
    },
  );
  return {
    stack,
    github,
    mirrors,
    client: apiClient(stack),
    stop: async () => {
      await stack.stop();
      await github.stop();
      rmSync(mirrors, { recursive: true, force: true });
    },
  };
}

/** Files under `dir` (on the host) containing any of `needles`, one per line. */
export function filesContaining(dir: string, needles: string[]): string {
  try {
    return execFileSync('grep', ['-rIl', ...needles.flatMap((n) => ['-e', n]), dir], { encoding: 'utf8' });
  } catch (err) {
    // grep exits 1 when nothing matched.
    if ((err as { status?: number }).status === 1) return '';
    throw err;
  }
}

/** The seed key file of a node_modules seed volume, or '' (read with a throwaway busybox, no network: it needs none). */
export function seedKey(volume: string): string {
  try {
    // A `docker run -v` of a volume that does not exist yet would create it (root-owned) before
    // pool-manager does, and the seed could then never be written: only read one that exists.
    execFileSync('docker', ['volume', 'inspect', volume], { stdio: 'ignore' });
    return execFileSync('docker', ['run', '--rm', '--network', 'none', '-v', `${volume}:/s:ro`, 'berth/busybox:latest', 'cat', '/s/key'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}
