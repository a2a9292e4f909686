import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WorkspaceIdSchema } from '@berth/contracts';
import { isApiError } from '../../errors.js';
import { allowOnly } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../io.js';

/** `ID:PATH` names a path in a workspace; anything else is local. */
function remoteOf(arg: string): { id: string; path: string } | undefined {
  const colon = arg.indexOf(':');
  if (colon < 0 || colon === arg.length - 1) return undefined;
  const id = arg.slice(0, colon);
  return WorkspaceIdSchema.safeParse(id).success ? { id, path: arg.slice(colon + 1) } : undefined;
}

const closedEarly = (err: unknown) => ['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'].includes((err as NodeJS.ErrnoException | undefined)?.code ?? '');

/** Runs tar with `args`, its stdin or stdout the given web stream; rejects when tar fails. */
async function tar(args: string[], io: { from?: ReadableStream<Uint8Array> }): Promise<ReadableStream<Uint8Array> | undefined> {
  const child = spawn('tar', args, { stdio: [io.from ? 'pipe' : 'ignore', io.from ? 'ignore' : 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  if (io.from) {
    const fed = pipeline(Readable.fromWeb(io.from as never), child.stdin!);
    // tar stops reading at the archive's end marker, so the record padding after it may find tar's
    // stdin closed: tar's own exit status says whether the archive was whole.
    const [feed, exit] = await Promise.allSettled([fed, exited]);
    if (exit.status === 'rejected') throw exit.reason;
    if (feed.status === 'rejected' && !closedEarly(feed.reason)) throw feed.reason;
    return undefined;
  }
  exited.catch(() => undefined);
  return Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>;
}

/**
 * `berth cp SRC DST`, one of them `ID:PATH`: a file is copied as bytes, a directory as a tar
 * stream (local tar on this side, the workspace's on the other), never held in memory.
 */
export const cp: Command = async (p, { io, client }) => {
  allowOnly(p, []);
  const [src, dst, ...extra] = p.positionals;
  if (src === undefined || dst === undefined || extra.length > 0)
    throw new UsageError('cp needs a source and a destination: berth cp SRC DST (one of them ID:PATH)');
  const from = remoteOf(src);
  const to = remoteOf(dst);
  if ((from === undefined) === (to === undefined)) throw new UsageError('exactly one of SRC and DST must be ID:PATH');
  const berth = await client();
  if (to) {
    const files = (await berth.containers.get(to.id)).files;
    const st = await stat(src);
    if (st.isDirectory()) await files.upload(to.path, (await tar(['-c', '-C', src, '.'], {}))!);
    else await files.write(to.path, Readable.toWeb(createReadStream(src)) as ReadableStream<Uint8Array>, { mode: st.mode & 0o777 });
    io.out(`${src} -> ${dst}\n`);
    return 0;
  }
  const files = (await berth.containers.get(from!.id)).files;
  try {
    await (await files.readStream(from!.path)).pipeTo(Writable.toWeb(createWriteStream(dst)));
  } catch (err) {
    if (!isApiError(err, 'IS_A_DIRECTORY')) throw err;
    await mkdir(dst, { recursive: true });
    await tar(['-x', '-C', dst, '-f', '-'], { from: await files.download(from!.path) });
  }
  io.out(`${src} -> ${dst}\n`);
  return 0;
};
