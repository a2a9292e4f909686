import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '@berth/service-kit';
import { ApiKeysFileSchema, type ApiKeyEntry, type KeyRing } from './api-key.js';

/**
 * Reads and validates BERTH_API_KEYS_FILE. Errors name the file and the failing field, never its
 * content. An empty array is valid (every key revoked; BERTH_API_TOKEN may still be accepted).
 */
export function loadKeysFile(path: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new Error(`API keys file ${path} ${why}`);
  }
  const parsed = ApiKeysFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`API keys file ${path} is invalid: ${issues}`);
  }
  return parsed.data;
}

/**
 * Reloads the ring when the file changes (polled, so an editor's or a deploy's atomic rename is
 * seen too) and on SIGHUP. A file that fails to load leaves the current keys in force. Returns a
 * function that stops watching.
 */
export function watchKeysFile(path: string, ring: KeyRing, logger: Logger, intervalMs = 1000): () => void {
  const reload = (why: string) => {
    try {
      ring.replace(loadKeysFile(path));
      logger.info({ keys: ring.size, why }, 'API keys reloaded');
    } catch (err) {
      logger.error({ why, error: (err as Error).message }, 'API keys not reloaded; the previous keys stay in force');
    }
  };
  const onChange = () => reload('file changed');
  const onHup = () => reload('SIGHUP');
  watchFile(path, { interval: intervalMs, persistent: false }, onChange);
  process.on('SIGHUP', onHup);
  return () => {
    unwatchFile(path, onChange);
    process.off('SIGHUP', onHup);
  };
}
