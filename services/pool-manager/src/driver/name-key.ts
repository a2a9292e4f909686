import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The key of the workspace names (workload-names.ts): WORKSPACE_NAME_KEY when set (compose and
 * scripts/up take it from .env), else a random key kept in `<dir>/<hostId>/name-key`, pool-manager's
 * private directory (0700, the agents' socket root). It must outlive Redis and pool-manager restarts:
 * without it reconcile cannot read the owner of a claimed workspace back.
 */
export async function workspaceNameKey(configured: string | undefined, dir: string, hostId: string): Promise<string> {
  if (configured) return configured;
  const root = join(dir, hostId);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.() ?? -1;
  const st = await lstat(root);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw new Error(`${root} must be a directory of uid ${uid} with mode 0700 to keep the workspace name key`);
  const path = join(root, 'name-key');
  // Written aside and linked into place: a second pool-manager starting at the same time reads
  // either no file or a whole one.
  const tmp = `${path}.${randomBytes(6).toString('hex')}`;
  const key = randomBytes(32).toString('hex');
  const out = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await out.writeFile(key);
    await out.sync();
  } finally {
    await out.close();
  }
  try {
    await link(tmp, path);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp);
  }
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const fst = await file.stat();
    if (!fst.isFile() || fst.uid !== uid || (fst.mode & 0o077) !== 0) throw new Error(`${path} must be a file of uid ${uid} with mode 0600`);
    const key = (await file.readFile('utf8')).trim();
    if (key.length < 32) throw new Error(`${path} holds no key; remove it to make a new one`);
    return key;
  } finally {
    await file.close();
  }
}
