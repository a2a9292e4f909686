import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_HOST_ID, HostIdSchema } from '@berth/contracts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses environment variables with a zod object schema. Fails fast with one readable line per
 * bad variable, naming it, and never echoes the value (it may be a secret).
 * - Any setting may come from a file instead, as `<NAME>_FILE` (Docker and Kubernetes secrets): its
 *   content, without a trailing newline. Setting both is an error.
 * - Docker's own `DOCKER_HOST=unix:///path` stands for `DOCKER_SOCKET` where a service has that
 *   setting (berth bind-mounts paths of this machine, so only a local unix socket can work).
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const picked: Record<string, string> = {};
  const problems: string[] = [];
  for (const key of Object.keys(schema.shape)) {
    const value = settingOf(key, env, problems);
    if (value !== undefined && value !== '') picked[key] = value;
  }
  if ('DOCKER_SOCKET' in schema.shape && picked.DOCKER_SOCKET === undefined && env.DOCKER_HOST) {
    if (env.DOCKER_HOST.startsWith('unix:///')) picked.DOCKER_SOCKET = env.DOCKER_HOST.slice('unix://'.length);
    else problems.push('  DOCKER_HOST: only a local unix:///path socket is supported (berth bind-mounts paths of this machine)');
  }
  const result = schema.safeParse(picked);
  if (result.success && problems.length === 0) return result.data;
  const lines = [...problems, ...(result.error?.issues ?? []).map((issue) => `  ${String(issue.path[0] ?? '?')}: ${issue.message}`)];
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** A setting's value from `NAME` or the file named by `NAME_FILE`. */
function settingOf(key: string, env: Record<string, string | undefined>, problems: string[]): string | undefined {
  const file = env[`${key}_FILE`];
  if (file === undefined || file === '') return env[key];
  if (env[key] !== undefined && env[key] !== '') {
    problems.push(`  ${key}: set ${key} or ${key}_FILE, not both`);
    return undefined;
  }
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    problems.push(`  ${key}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** Integer from an env string, with bounds. Only plain decimal digits: no `1e3`, `0x10` or blank (which Number() reads as 0). */
export const envInt = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(def);

export const envBool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A JSON value in an env var, validated by `schema`. */
export const envJson = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** Settings every service shares. */
export const commonConfigShape = {
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BERTH_HOST_ID: HostIdSchema.default(DEFAULT_HOST_ID),
  SHUTDOWN_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** Copies of each JetStream stream the service manages: 3 on a three-node NATS cluster, 1 on a single server. */
  JETSTREAM_REPLICAS: envInt(1, 1, 5),
};

/** For a service's main: a ConfigError becomes one readable message and exit code 1, not a stack trace. */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${service}: ${err.message}`);
    process.exit(1);
  }
}
