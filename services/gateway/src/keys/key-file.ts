import { readFileSync, statSync } from 'node:fs';
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

/** What tells one version of the file from the next: a rename gives a new inode, an edit a new mtime or size. */
function versionOf(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : 'missing';
}

/**
 * Reloads the ring when the file changes (polled, so an editor's or a deploy's atomic rename is
 * seen too) and on SIGHUP. A file that fails to load leaves the current keys in force. Returns a
 * function that stops watching.
 *
 * The version is taken before a first reload, so a change made after the caller loaded the file
 * but before the watch began is not missed (fs.watchFile takes its baseline later, at a time
 * nobody knows, and would miss it for good).
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
  let seen = versionOf(path);
  reload('watch started');
  const poll = setInterval(() => {
    const now = versionOf(path);
    if (now === seen) return;
    seen = now;
    reload('file changed');
  }, intervalMs);
  poll.unref();
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  return () => {
    clearInterval(poll);
    process.off('SIGHUP', onHup);
  };
}
