import { commonConfigShape, envInt, loadConfig } from '@berth/service-kit';
import { resolve } from 'node:path';
import { z } from 'zod';

export const repoCacheConfigSchema = z.object({
  ...commonConfigShape,
  /** Root of the bare mirrors, one per repo at `<owner>/<repo>.git`; workspaces mount it read-only. Made absolute. */
  MIRRORS_DIR: z
    .string()
    .default('/var/lib/berth/mirrors')
    .transform((p) => resolve(p)),
  /** Upstream base URL: a repo is fetched from `${GITHUB_URL}/<owner>/<repo>.git`. */
  GITHUB_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://github.com')
    .transform((u) => u.replace(/\/+$/, '')),
  /** Forward proxy git goes through (egress), e.g. http://127.0.0.1:3128. Empty: direct. */
  EGRESS_PROXY_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** A clone or fetch running longer is killed and answered UPSTREAM_UNAVAILABLE, ms. */
  REPO_FETCH_TIMEOUT_MS: envInt(600_000, 1_000, 3_600_000),
  /** Per-repo Redis lock lifetime, ms; renewed every third of it while a fetch runs, so a crashed holder frees it after this long. */
  REPO_LOCK_TTL_MS: envInt(30_000, 500, 600_000),
  /** How long a sync waits for another process's fetch of the same repo before answering TIMEOUT, ms. */
  REPO_LOCK_WAIT_MS: envInt(900_000, 100, 3_600_000),
  /** Its own name: every service reads the same .env. 0 disables the health server. */
  REPO_CACHE_HEALTH_PORT: envInt(9103, 0, 65535),
  HEALTH_BIND: z.string().default('127.0.0.1'),
});

export type RepoCacheConfig = z.infer<typeof repoCacheConfigSchema>;

export function loadRepoCacheConfig(env: Record<string, string | undefined> = process.env): RepoCacheConfig {
  return loadConfig(repoCacheConfigSchema, env);
}
