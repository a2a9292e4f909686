// File operations of the berth agent (docker/agent/PROTOCOL.md, "Files"). Everything runs as the
// agent's user (the workspace user): the kernel decides what may be read or written, exactly as
// for a command the workspace runs. Paths are absolute, or relative to /workspace.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, lstatSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { startWatch } from './watch.mjs';
import { spawn } from './expendable.mjs';

const HOME = '/workspace';
/**
 * An `entries` message of a list ends at this many entries, or once its entries could take this
 * many bytes of JSON (every character of a name escaped): far below the 1 MiB frame either way.
 */
const LIST_BATCH = 1000;
const LIST_BATCH_BYTES = 256 * 1024;
/** How long a list works before the agent's other connections get a turn. */
const LIST_SLICE_MS = 20;
/** A download's reads: one data frame each, one NATS message each in pool-manager (FILE_BYTES_CHUNK_MAX_BYTES). */
const READ_CHUNK = 512 * 1024;
/** What of tar's complaints is kept for the error message. */
const STDERR_KEEP = 2048;

/** The path as the workspace sees it; a NUL never gets this far (pool-manager refuses it). */
export function resolvePath(p) {
  if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) throw Object.assign(new Error('bad path'), { code: 'EINVAL' });
  return resolve(HOME, p);
}

/**
 * lstat without a thread-pool round trip: for a directory's entries one after another, the
 * round trip costs more than the stat itself (1,000 entries: about half the time). An entry gone
 * or unreadable meanwhile is left out.
 */
function lstatQuiet(path) {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

const typeOf = (st) => (st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other');
const entryOf = (path, name, st) => ({
  path,
  name,
  type: typeOf(st),
  size: st.isFile() ? st.size : 0,
  mode: st.mode & 0o7777,
  mtime: new Date(st.mtimeMs).toISOString(),
});

/** The byte range [start, end] of a file of `size` bytes for an HTTP-style range; undefined: unsatisfiable. */
function rangeOf(range, size) {
  if (!range) return { start: 0, end: size - 1 };
  const { start, end } = range;
  if (start === null) {
    if (!(end > 0) || size === 0) return undefined;
    return { start: Math.max(0, size - end), end: size - 1 };
  }
  if (start >= size) return undefined;
  return { start, end: end === null ? size - 1 : Math.min(end, size - 1) };
}

/**
 * Serves one `files` request on a connection. `io.send(kind, payload)` returns false when the
 * socket is full; `io.finish()` ends the connection; `io.pauseInput/resumeInput` hold back the
 * uploaded bytes. Returns the handler of what pool-manager sends next: data frames, `eof`, close.
 */
export function startFiles(req, io, KIND) {
  const reply = (msg) => io.send(KIND.json, msg);
  let done = false;
  const finish = (msg) => {
    if (done) return;
    done = true;
    reply(msg);
    io.finish();
  };
  const fail = (err) => finish({ type: 'error', code: typeof err?.code === 'string' ? err.code : 'EIO', message: String(err?.message ?? err).slice(0, 500) });
  /** Streams a readable as data frames, pausing it while the socket is full. */
  const pipeOut = (readable) =>
    new Promise((res, rej) => {
      readable.on('data', (chunk) => {
        if (!io.send(KIND.stdout, chunk)) {
          readable.pause();
          io.onDrain(() => readable.resume());
        }
      });
      readable.once('end', res);
      readable.once('error', rej);
    });
  let handler = { data: () => fail(new Error('unexpected data')), eof: () => fail(new Error('unexpected eof')), close: () => undefined };

  const ops = {
    async stat() {
      const path = resolvePath(req.path);
      finish({ type: 'result', entry: entryOf(req.path, basename(path), await lstat(path)) });
    },
    async list() {
      const root = resolvePath(req.path);
      const st = await lstat(root);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      const max = Number.isSafeInteger(req.maxEntries) ? req.maxEntries : 10_000;
      const depth = Number.isSafeInteger(req.depth) ? req.depth : 1;
      let count = 0;
      let truncated = false;
      let batch = [];
      let batchBytes = 0;
      let slice = performance.now();
      const queue = [{ dir: root, rel: '', level: 1 }];
      while (queue.length && !truncated) {
        const { dir, rel, level } = queue.shift();
        let names;
        try {
          names = await readdir(dir);
        } catch (err) {
          if (rel === '') throw err;
          continue;
        }
        names.sort();
        if (count + names.length > max) {
          names = names.slice(0, max - count);
          truncated = true;
        }
        for (const name of names) {
          const s = lstatQuiet(join(dir, name));
          if (!s) continue;
          const path = rel ? `${rel}/${name}` : name;
          batch.push(entryOf(path, name, s));
          batchBytes += 6 * (path.length + name.length) + 128;
          count += 1;
          // Never into a link: the tree listed is the one below the path.
          if (s.isDirectory() && level < depth) queue.push({ dir: join(dir, name), rel: path, level: level + 1 });
          if (batch.length === LIST_BATCH || batchBytes > LIST_BATCH_BYTES) {
            reply({ type: 'entries', entries: batch });
            batch = [];
            batchBytes = 0;
          }
          // A long list lets the agent's other connections have their turn now and then; a turn
          // after every batch made a short list wait on the event loop several times.
          if (performance.now() - slice > LIST_SLICE_MS) {
            await new Promise((r) => setImmediate(r));
            slice = performance.now();
          }
        }
      }
      if (batch.length > 0) reply({ type: 'entries', entries: batch });
      finish({ type: 'result', truncated });
    },
    async remove() {
      const path = resolvePath(req.path);
      if (path === '/') throw Object.assign(new Error('refusing /'), { code: 'EPERM' });
      const st = await lstat(path);
      if (st.isDirectory() && !req.recursive) await rmdir(path);
      else await rm(path, { recursive: true, force: false });
      finish({ type: 'result' });
    },
    async move() {
      const from = resolvePath(req.from);
      const to = resolvePath(req.to);
      try {
        await rename(from, to);
      } catch (err) {
        if (err.code !== 'EXDEV') throw err;
        // Across filesystems (the volume at /workspace and the image's root): mv copies, then removes.
        await run('mv', ['-T', '--', from, to]);
      }
      finish({ type: 'result', entry: entryOf(req.to, basename(to), await lstat(to)) });
    },
    async mkdir() {
      const path = resolvePath(req.path);
      await mkdir(path, { recursive: true });
      const st = await lstat(path);
      if (!st.isDirectory()) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
      finish({ type: 'result', entry: entryOf(req.path, basename(path), st) });
    },
    async read() {
      const path = resolvePath(req.path);
      // Checked on what was opened, not on the name (which the workspace can swap meanwhile).
      const fh = await open(path, 'r');
      try {
        const st = await fh.stat();
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        const size = st.isFile() ? st.size : 0;
        const r = size === 0 && !req.range ? { start: 0, end: -1 } : rangeOf(req.range, size);
        if (!r) throw Object.assign(new Error('range not satisfiable'), { code: 'ERANGE' });
        reply({ type: 'meta', size, start: r.start, end: r.end, mtime: new Date(st.mtimeMs).toISOString() });
        if (r.end >= r.start) await pipeOut(createReadStream('', { fd: fh, start: r.start, end: r.end, autoClose: false, highWaterMark: READ_CHUNK }));
      } finally {
        await fh.close().catch(() => undefined);
      }
      finish({ type: 'result' });
    },
    async tarOut() {
      const path = resolvePath(req.path);
      const st = await lstat(path);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      const child = spawn('tar', ['-c', '-f', '-', '-C', path, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      handler = { ...handler, close: () => child.kill('SIGKILL') };
      const stderr = keep(child.stderr);
      const exited = exitOf(child);
      reply({ type: 'meta', size: null, start: 0, end: null, mtime: new Date(st.mtimeMs).toISOString() });
      await pipeOut(child.stdout);
      const code = await exited;
      if (code !== 0) throw Object.assign(new Error(`tar: ${stderr()}`), { code: 'ETAR' });
      finish({ type: 'result' });
    },
    async write() {
      const path = resolvePath(req.path);
      const existing = await lstat(path).catch((err) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (existing?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      const dir = dirname(path);
      await mkdir(dir, { recursive: true });
      // Written beside the target and renamed over it at the end: a cut upload leaves nothing half-written.
      const temp = join(dir, `.berth-upload-${randomBytes(8).toString('hex')}`);
      // A large buffer: the socket is paused only when the disk really lags, not after every frame.
      const out = createWriteStream(temp, { flags: 'wx', mode: 0o600, highWaterMark: 4 * 1024 * 1024 });
      await new Promise((res, rej) => {
        out.once('open', res);
        out.once('error', rej);
      });
      let written = 0;
      let ended = false;
      const discard = () => {
        out.destroy();
        void unlink(temp).catch(() => undefined);
      };
      out.on('error', (err) => {
        discard();
        fail(err);
      });
      handler = {
        data: (chunk) => {
          written += chunk.length;
          if (written > req.maxBytes) {
            discard();
            return fail(Object.assign(new Error('too large'), { code: 'EFBIG' }));
          }
          if (!out.write(chunk)) {
            io.pauseInput();
            out.once('drain', () => io.resumeInput());
          }
        },
        eof: () => {
          if (ended) return;
          ended = true;
          out.end(() => {
            (async () => {
              await chmod(temp, Number.isSafeInteger(req.mode) ? req.mode : 0o644);
              await rename(temp, path);
              finish({ type: 'result', entry: entryOf(req.path, basename(path), await lstat(path)) });
            })().catch((err) => {
              void unlink(temp).catch(() => undefined);
              fail(err);
            });
          });
        },
        close: () => {
          if (!done) discard();
        },
      };
      reply({ type: 'ready' });
    },
    async watch() {
      // Held until pool-manager closes the connection: events as they come, never a `result`.
      let closed = false;
      handler = { ...handler, close: () => (closed = true) };
      const stop = await startWatch(req, resolvePath(req.path), {
        send: reply,
        drained: () => new Promise((res) => io.onDrain(res)),
        onError: fail,
      });
      if (closed || done) stop();
      else handler = { ...handler, close: stop };
    },
    async untar() {
      const path = resolvePath(req.path);
      await mkdir(path, { recursive: true });
      const child = spawn('tar', ['-x', '-f', '-', '-C', path, '--no-same-owner', '--no-overwrite-dir'], { stdio: ['pipe', 'ignore', 'pipe'] });
      const stderr = keep(child.stderr);
      const exited = exitOf(child);
      child.stdin.on('error', () => undefined);
      let written = 0;
      handler = {
        data: (chunk) => {
          written += chunk.length;
          if (written > req.maxBytes) {
            child.kill('SIGKILL');
            return fail(Object.assign(new Error('too large'), { code: 'EFBIG' }));
          }
          if (!child.stdin.write(chunk)) {
            io.pauseInput();
            child.stdin.once('drain', () => io.resumeInput());
          }
        },
        eof: () => {
          child.stdin.end();
          exited
            .then((code) => {
              if (code !== 0) return fail(Object.assign(new Error(`tar: ${stderr()}`), { code: 'ETAR' }));
              return lstat(path).then((st) => finish({ type: 'result', entry: entryOf(req.path, basename(path), st) }));
            })
            .catch(fail);
        },
        close: () => {
          if (!done) child.kill('SIGKILL');
        },
      };
      reply({ type: 'ready' });
    },
  };

  const op = Object.hasOwn(ops, req.op) ? ops[req.op] : undefined;
  if (!op) fail(Object.assign(new Error(`unknown op ${String(req.op)}`), { code: 'ENOSYS' }));
  else op().catch(fail);
  return {
    data: (chunk) => handler.data(chunk),
    message: (msg) => {
      if (msg.type === 'eof') handler.eof();
    },
    close: () => handler.close(),
  };
}

/** The last STDERR_KEEP bytes of a stream, as text. */
function keep(stream) {
  let kept = Buffer.alloc(0);
  stream.on('data', (c) => {
    kept = Buffer.concat([kept, c]).subarray(-STDERR_KEEP);
  });
  return () => kept.toString('utf8').trim();
}

const exitOf = (child) =>
  new Promise((res) => {
    child.once('error', () => res(127));
    child.once('close', (code) => res(code ?? 1));
  });

async function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = keep(child.stderr);
  const code = await exitOf(child);
  if (code !== 0)
    throw Object.assign(new Error(`${cmd}: ${stderr()}`), {
      code: /No such file/.test(stderr()) ? 'ENOENT' : /Permission denied/.test(stderr()) ? 'EACCES' : 'EIO',
    });
}
