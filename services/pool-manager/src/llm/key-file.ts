import { constants } from 'node:fs';
import { open, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LLM_KEY_PATTERN } from '@berth/contracts';

/** The key's file name in the workspace's agent directory (mounted at /run/berth). */
export const KEY_FILE = 'llm-key';
const MAX_KEY_FILE_BYTES = 128;

/** A key written under a temp name, not in force until committed (rotate registers in between). */
export interface StagedKeyFile {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * Writes `key` to `<dir>/.llm-key.<random>` (0600); `commit` renames it over `llm-key`, so a reader
 * sees the old key or the new one, never half a file. The directory is pool-manager's own
 * (read-only inside the workspace), so nothing else writes there; O_EXCL still refuses a name that exists.
 */
export async function stageKeyFile(dir: string, key: string, tmpName = `.${KEY_FILE}.${randomBytes(12).toString('hex')}`): Promise<StagedKeyFile> {
  const tmp = join(dir, tmpName);
  // One call (flag wx = O_CREAT|O_EXCL|O_WRONLY): it runs in the claim path.
  try {
    await writeFile(tmp, `${key}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // Not ours to remove when it existed already.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return {
    commit: () => rename(tmp, join(dir, KEY_FILE)),
    discard: () => unlink(tmp).catch(() => undefined),
  };
}

export async function writeKeyFile(dir: string, key: string): Promise<void> {
  const staged = await stageKeyFile(dir, key);
  await staged.commit().catch(async (err: unknown) => {
    await staged.discard();
    throw err;
  });
}

/**
 * The key in `<dir>/llm-key`, or undefined. Kept defensive although only pool-manager writes
 * there: not a symlink (O_NOFOLLOW), not a FIFO that would block (O_NONBLOCK), a small regular
 * file of ours, and a well-formed key.
 */
export async function readKeyFile(dir: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(join(dir, KEY_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await fh.stat();
    const uid = process.getuid?.();
    if (!st.isFile() || st.size > MAX_KEY_FILE_BYTES || (uid !== undefined && st.uid !== uid)) return undefined;
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, MAX_KEY_FILE_BYTES, 0);
    const key = buf.subarray(0, bytesRead).toString('utf8').trim();
    return LLM_KEY_PATTERN.test(key) ? key : undefined;
  } catch {
    return undefined;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export async function removeKeyFile(dir: string): Promise<void> {
  await rm(join(dir, KEY_FILE), { force: true });
}
