import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from './io.js';

const ConfigFileSchema = z.object({ url: z.url().optional(), apiKey: z.string().min(1).optional() });
type ConfigFile = z.infer<typeof ConfigFileSchema>;

export interface ResolvedConfig {
  url: string;
  apiKey: string;
}

/** `$XDG_CONFIG_HOME/berth/config.json`, else `~/.config/berth/config.json`. */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'berth', 'config.json');
}

async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`${path} is not a berth config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Flags, then BERTH_URL / BERTH_API_KEY, then the config file (read only when something is missing). */
export async function resolveConfig(flags: { url?: string }, env: NodeJS.ProcessEnv): Promise<ResolvedConfig> {
  let url = flags.url || env.BERTH_URL;
  let apiKey = env.BERTH_API_KEY;
  if (!url || !apiKey) {
    const file = await readConfigFile(configPath(env));
    url ||= file.url;
    apiKey ||= file.apiKey;
  }
  if (!url) throw new UsageError('no berth URL: pass --url, set BERTH_URL, or run `berth login`');
  if (!apiKey) throw new UsageError('no API key: set BERTH_API_KEY or run `berth login --url URL --api-key-stdin`');
  return { url, apiKey };
}

/** Writes the config readable by its owner only (directory 700, file 600), replacing it whole. */
export async function writeConfigFile(path: string, config: ResolvedConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
