import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callApi } from '@berth/service-kit/testing';
import { berthCli } from '../../packages/sdk/test/cli.js';
import { Berth } from '../../packages/sdk/src/index.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// Files in a workspace as a caller sees them: real gateway, pool-manager, NATS, Redis and Docker,
// the workspace's agent doing the work. Every check of what is in the workspace goes around
// berth, to Docker. FILES_TEST_IMAGE: a workspace image with the agent of this checkout
// (`WORKSPACE_IMAGE=berth/workspace:files docker/base-images.sh`); the lead's rebuild makes it latest.
const IMAGE = process.env.FILES_TEST_IMAGE ?? 'berth/workspace:latest';
const LIMIT = 8 * 1024 * 1024;
let stack: LocalStack;
let id: string;

beforeAll(async () => {
  stack = await startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 256, pids: 128, image: IMAGE }]),
    FILES_MAX_UPLOAD_BYTES: String(LIMIT),
  });
  id = (await call('POST', '/api/containers', {})).json.id as string;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const auth = () => ({ authorization: `Bearer ${stack.token}` });
const q = (path: string, extra = '') => `/api/containers/${id}/files?path=${encodeURIComponent(path)}${extra}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const call = (method: string, path: string, body?: unknown) => callApi(stack.url, stack.token, method, path, body);

async function put(path: string, body: Buffer | ReadableStream, headers: Record<string, string> = {}, extra = '') {
  const res = await fetch(`${stack.url}${q(path, extra)}`, {
    method: 'PUT',
    headers: { ...auth(), ...headers },
    body,
    ...(body instanceof ReadableStream && { duplex: 'half' }),
  } as RequestInit);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test asserts the fields it reads
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${q(path)}`, { headers: { ...auth(), ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** Runs a command in the workspace as Docker sees it, around berth (as root when asked, to check what the user could not). */
function inWorkspace(cmd: string, user = '1000'): string {
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
  return execFileSync('docker', ['exec', '-u', user, ref, 'sh', '-c', cmd], { encoding: 'utf8' });
}

describe('files: every byte written reads back', () => {
  test('a binary file of every byte value, read back whole and checked in the container', async () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3 * 1024 * 1024 + 17)]);
    const w = await put('bin/data.bin', data);
    expect(w.status).toBe(201);
    expect(w.json).toMatchObject({ path: 'bin/data.bin', name: 'data.bin', type: 'file', size: data.length, mode: 0o644 });
    const r = await get('/workspace/bin/data.bin');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(data.length));
    expect(sha(r.body)).toBe(sha(data));
    expect(inWorkspace('sha256sum /workspace/bin/data.bin').split(' ')[0]).toBe(sha(data));
    // Written as the workspace user, never as root.
    expect(inWorkspace('stat -c %u:%g /workspace/bin/data.bin').trim()).toBe('1000:1000');
  });

  test('ranges: a slice, a suffix, an open end; a range past the end is 416', async () => {
    const data = randomBytes(100_000);
    expect((await put('ranges.bin', data)).status).toBe(201);
    const slice = await get('ranges.bin', { range: 'bytes=10-19' });
    expect(slice.status).toBe(206);
    expect(slice.headers.get('content-range')).toBe('bytes 10-19/100000');
    expect(slice.body.equals(data.subarray(10, 20))).toBe(true);
    expect((await get('ranges.bin', { range: 'bytes=-5' })).body.equals(data.subarray(-5))).toBe(true);
    expect((await get('ranges.bin', { range: 'bytes=99990-' })).body.equals(data.subarray(99_990))).toBe(true);
    const past = await get('ranges.bin', { range: 'bytes=100000-' });
    expect(past.status).toBe(416);
    expect(JSON.parse(past.body.toString()).error.code).toBe('RANGE_NOT_SATISFIABLE');
  });

  test('a chunked upload (no Content-Length), a mode, an empty file and a JSON body stored as bytes', async () => {
    const parts = [randomBytes(70_000), randomBytes(300_000), randomBytes(5)];
    const stream = new ReadableStream({
      pull(c) {
        const p = parts.shift();
        if (p) c.enqueue(p);
        else c.close();
      },
    });
    const all = Buffer.concat(parts);
    const w = await put('chunked.bin', stream, {}, '&mode=0755');
    expect(w.status).toBe(201);
    expect(w.json.mode).toBe(0o755);
    expect(inWorkspace('stat -c %a chunked.bin 2>/dev/null || stat -c %a /workspace/chunked.bin').trim()).toBe('755');
    expect(sha((await get('chunked.bin')).body)).toBe(sha(all));
    expect((await put('empty', Buffer.alloc(0))).json.size).toBe(0);
    expect((await get('empty')).body.length).toBe(0);
    const json = Buffer.from('{"not": "parsed"');
    expect((await put('x.json', json, { 'content-type': 'application/json' })).status).toBe(201);
    expect((await get('x.json')).body.equals(json)).toBe(true);
  });
});

describe('files: list, move, mkdir, delete', () => {
  test('mkdir, list with depth, move, delete', async () => {
    const made = await call('POST', `/api/containers/${id}/files/mkdir`, { path: 'tree/a/b' });
    expect(made.status).toBe(200);
    expect(made.json).toMatchObject({ type: 'directory', name: 'b' });
    await put('tree/one.txt', Buffer.from('1'));
    await put('tree/a/two.txt', Buffer.from('22'));
    const top = await call('GET', `/api/containers/${id}/files/list?path=tree`);
    expect(top.status).toBe(200);
    expect(top.json.entries.map((e: { path: string; type: string }) => `${e.path}:${e.type}`)).toEqual(['a:directory', 'one.txt:file']);
    const deep = await call('GET', `/api/containers/${id}/files/list?path=tree&depth=3`);
    expect(deep.json.entries.map((e: { path: string }) => e.path).sort()).toEqual(['a', 'a/b', 'a/two.txt', 'one.txt']);
    expect(deep.json.entries.find((e: { path: string }) => e.path === 'a/two.txt')).toMatchObject({ size: 2, mode: 0o644 });

    const moved = await call('POST', `/api/containers/${id}/files/move`, { from: 'tree/one.txt', to: 'tree/a/b/one.txt' });
    expect(moved.status).toBe(200);
    expect(inWorkspace('cat /workspace/tree/a/b/one.txt; test ! -e /workspace/tree/one.txt && echo gone')).toBe('1gone\n');
    // Across filesystems: the volume at /workspace to the image's /tmp.
    expect((await call('POST', `/api/containers/${id}/files/move`, { from: 'tree/a/two.txt', to: '/tmp/two.txt' })).status).toBe(200);
    expect(inWorkspace('cat /tmp/two.txt')).toBe('22');

    expect((await call('DELETE', `${q('tree')}&recursive=false`)).json.error.code).toBe('DIRECTORY_NOT_EMPTY');
    expect((await call('DELETE', q('tree'))).json).toEqual({ removed: 'tree' });
    expect(inWorkspace('test -e /workspace/tree && echo there || echo gone')).toBe('gone\n');
    expect((await call('DELETE', q('tree'))).json.error.code).toBe('FILE_NOT_FOUND');
  });

  test('errors are codes, never 5xx', async () => {
    await put('errs/file', Buffer.from('x'));
    expect((await get('nope/missing')).status).toBe(404);
    expect(JSON.parse((await get('nope/missing')).body.toString()).error.code).toBe('FILE_NOT_FOUND');
    expect(JSON.parse((await get('errs')).body.toString()).error.code).toBe('IS_A_DIRECTORY');
    expect((await call('GET', `/api/containers/${id}/files/list?path=errs/file`)).json.error.code).toBe('NOT_A_DIRECTORY');
    expect((await put('errs/file/below', Buffer.from('x'))).json.error.code).toBe('NOT_A_DIRECTORY');
    expect((await put('errs', Buffer.from('x'))).json.error.code).toBe('IS_A_DIRECTORY');
    expect((await call('POST', `/api/containers/${id}/files/mkdir`, { path: 'errs/file' })).json.error.code).toBe('FILE_EXISTS');
    expect((await call('POST', `/api/containers/${id}/files/mkdir`, { path: 'x', extra: 1 })).json.error.code).toBe('UNKNOWN_FIELD');
    expect((await call('GET', '/api/containers/ws_000000000000/files/list?path=x')).status).toBe(404);
  });
});

describe('files: directories as tar', () => {
  test('a tree out as tar and back in elsewhere, byte for byte', async () => {
    inWorkspace(
      'mkdir -p /workspace/src/sub/deep && head -c 200000 /dev/urandom > /workspace/src/sub/deep/blob && echo hi > /workspace/src/a.txt && ln -s a.txt /workspace/src/link',
    );
    const tar = await get('src', { accept: 'application/x-tar' });
    expect(tar.status).toBe(200);
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    const w = await put('copy', tar.body, { 'content-type': 'application/x-tar' });
    expect(w.status).toBe(201);
    expect(w.json.type).toBe('directory');
    const sums = (dir: string) => inWorkspace(`cd /workspace/${dir} && find . -type f -exec sha256sum {} + | sort && find . -type l -exec readlink {} +`);
    expect(sums('copy')).toBe(sums('src'));
    expect(sums('copy')).toContain('./sub/deep/blob');
    // A file is not a directory to tar.
    expect(JSON.parse((await get('src/a.txt', { accept: 'application/x-tar' })).body.toString()).error.code).toBe('NOT_A_DIRECTORY');
    // A bad archive: tar's refusal, as a code.
    expect((await put('bad', Buffer.from('not a tar archive at all'.repeat(40)), { 'content-type': 'application/x-tar' })).json.error.code).toBe(
      'FILE_OPERATION_FAILED',
    );
  });
});

describe('files: attacks', () => {
  test(".. and absolute paths are the workspace user's view: /etc/shadow is EACCES, /etc is not writable", async () => {
    for (const path of ['../../etc/shadow', '/etc/shadow', '/workspace/../etc/shadow']) {
      const r = await get(path);
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body.toString()).error.code).toBe('FILE_PERMISSION_DENIED');
    }
    const before = inWorkspace('sha256sum /etc/passwd', '0');
    expect((await put('/etc/passwd', Buffer.from('root::0:0::/root:/bin/sh\n'))).json.error.code).toBe('FILE_PERMISSION_DENIED');
    expect((await put('../../etc/evil', Buffer.from('x'))).json.error.code).toBe('FILE_PERMISSION_DENIED');
    expect(inWorkspace('sha256sum /etc/passwd', '0')).toBe(before);
    expect(inWorkspace('ls /etc/evil 2>&1 || true')).toContain('No such file');
  });

  test('a symlink the workspace planted: reading it is EACCES, writing replaces the link, not its target', async () => {
    inWorkspace('ln -sf /etc/shadow /workspace/shadow-link && ln -sf /etc /workspace/etc-link');
    expect(JSON.parse((await get('shadow-link')).body.toString()).error.code).toBe('FILE_PERMISSION_DENIED');
    expect((await put('etc-link/hosts', Buffer.from('x'))).json.error.code).toBe('FILE_PERMISSION_DENIED');
    const shadow = inWorkspace('sha256sum /etc/shadow', '0');
    expect((await put('shadow-link', Buffer.from('mine'))).status).toBe(201);
    expect(inWorkspace('test -L /workspace/shadow-link && echo link || cat /workspace/shadow-link')).toBe('mine');
    expect(inWorkspace('sha256sum /etc/shadow', '0')).toBe(shadow);
    // Listing never follows a link into the directory it names.
    const list = await call('GET', `/api/containers/${id}/files/list?path=.&depth=4`);
    expect(list.json.entries.find((e: { path: string }) => e.path === 'etc-link')).toMatchObject({ type: 'symlink' });
    expect(list.json.entries.some((e: { path: string }) => e.path.startsWith('etc-link/'))).toBe(false);
  });

  test('nothing runs as root: the agent and everything it starts are the workspace user', async () => {
    const ps = inWorkspace('ps -eo user:12,args', '0');
    const agent = ps.split('\n').filter((l) => l.includes('berth-agent.mjs') && !l.includes('until'));
    expect(agent.length).toBeGreaterThan(0);
    for (const line of agent) expect(line.trim().split(/\s+/)[0]).not.toBe('root');
  });

  test('an upload past the limit is 413 and writes nothing, with or without Content-Length', async () => {
    const big = Buffer.alloc(LIMIT + 1, 7);
    const declared = await put('big/declared.bin', big);
    expect(declared.status).toBe(413);
    expect(declared.json.error.code).toBe('FILE_TOO_LARGE');
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent > LIMIT + 1024 * 1024) c.close();
        else {
          sent += 256 * 1024;
          c.enqueue(Buffer.alloc(256 * 1024, 1));
        }
      },
    });
    const chunked = await put('big/chunked.bin', stream);
    expect(chunked.status).toBe(413);
    expect(chunked.json.error.code).toBe('FILE_TOO_LARGE');
    // Nothing half-written: neither the file nor the agent's temporary file is left.
    await expect.poll(() => inWorkspace('ls -A /workspace/big 2>/dev/null || true'), { timeout: 5_000 }).toBe('');
    // An upload exactly at the limit goes through.
    expect((await put('big/at-limit.bin', Buffer.alloc(LIMIT, 3))).status).toBe(201);
  });

  test('a client that goes away mid-upload leaves nothing behind', async () => {
    const { hostname, port } = new URL(stack.url);
    const socket = connect(Number(port), hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(`PUT ${q('cut/file.bin')} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${stack.token}\r\ncontent-length: 4000000\r\n\r\n`);
    for (let i = 0; i < 8; i++) socket.write(Buffer.alloc(128 * 1024, 2));
    await expect.poll(() => inWorkspace('ls -A /workspace/cut 2>/dev/null || true'), { timeout: 5_000 }).toMatch(/^\.berth-upload-/);
    socket.end();
    await expect.poll(() => inWorkspace('ls -A /workspace/cut 2>/dev/null || true'), { timeout: 5_000 }).toBe('');
  });

  test('NUL is refused; newlines and odd bytes are names like any other', async () => {
    const nul = await call('GET', `/api/containers/${id}/files/list?path=${encodeURIComponent('a\0b')}`);
    expect(nul.status).toBe(400);
    expect(nul.json.error.code).toBe('VALIDATION_FAILED');
    const odd = 'odd/line\nbreak -- $(id) ;*.txt';
    expect((await put(odd, Buffer.from('odd'))).status).toBe(201);
    expect((await get(odd)).body.toString()).toBe('odd');
    const list = await call('GET', `/api/containers/${id}/files/list?path=odd`);
    expect(list.json.entries.map((e: { name: string }) => e.name)).toEqual(['line\nbreak -- $(id) ;*.txt']);
    const tar = await get('odd', { accept: 'application/x-tar' });
    expect((await put('odd-copy', tar.body, { 'content-type': 'application/x-tar' })).status).toBe(201);
    expect(inWorkspace('cat "/workspace/odd-copy/line\nbreak -- \\$(id) ;*.txt"')).toBe('odd');
  });
});

describe('files: list figures', () => {
  test('a directory of 1,000 entries lists whole', async () => {
    inWorkspace('mkdir -p /workspace/many && cd /workspace/many && for i in $(seq 1 1000); do : > f$i; done');
    const list = await call('GET', `/api/containers/${id}/files/list?path=many`);
    expect(list.json.entries).toHaveLength(1000);
    expect(list.json.truncated).toBe(false);
  });
});

describe('files: the SDK', () => {
  test('container.files: write, read, range, list, mkdir, move, remove, download and upload as tar', async () => {
    const c = await new Berth({ url: stack.url, apiKey: stack.token }).containers.get(id);
    const data = randomBytes(300_000);
    expect(await c.files.write('sdk/data.bin', data, { mode: 0o600 })).toMatchObject({ size: data.length, mode: 0o600 });
    expect(Buffer.from(await c.files.read('sdk/data.bin')).equals(data)).toBe(true);
    expect(Buffer.from(await c.files.read('sdk/data.bin', { range: { start: 5, end: 9 } })).equals(data.subarray(5, 10))).toBe(true);
    await c.files.write('sdk/hello.txt', 'héllo');
    expect(await c.files.readText('sdk/hello.txt')).toBe('héllo');
    await c.files.mkdir('sdk/dir');
    await c.files.move('sdk/hello.txt', 'sdk/dir/hello.txt');
    expect((await c.files.list('sdk', { depth: 2 })).entries.map((e) => e.path)).toEqual(['data.bin', 'dir', 'dir/hello.txt']);
    const tar = await c.files.download('sdk');
    expect((await c.files.upload('sdk-copy', tar)).type).toBe('directory');
    expect(await c.files.readText('sdk-copy/dir/hello.txt')).toBe('héllo');
    await c.files.remove('sdk');
    await expect(c.files.read('sdk/data.bin')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', status: 404 });
  });
});

describe('files: berth cp', () => {
  test('a file and a directory in and out', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cp-'));
    try {
      const env = { BERTH_URL: stack.url, BERTH_API_KEY: stack.token, HOME: dir };
      const data = randomBytes(200_000);
      writeFileSync(join(dir, 'f.bin'), data);
      mkdirSync(join(dir, 'tree/sub'), { recursive: true });
      writeFileSync(join(dir, 'tree/sub/x.txt'), 'x');
      const up = await berthCli(['cp', join(dir, 'f.bin'), `${id}:cp/f.bin`], env);
      expect(up.code, up.stderr).toBe(0);
      const upTree = await berthCli(['cp', join(dir, 'tree'), `${id}:cp/tree`], env);
      expect(upTree.code, upTree.stderr).toBe(0);
      expect(inWorkspace('cat /workspace/cp/tree/sub/x.txt')).toBe('x');
      const back = await berthCli(['cp', `${id}:cp`, join(dir, 'back')], env);
      expect(back.code, back.stderr).toBe(0);
      expect(readFileSync(join(dir, 'back/f.bin')).equals(data)).toBe(true);
      expect(readFileSync(join(dir, 'back/tree/sub/x.txt'), 'utf8')).toBe('x');
      expect((await berthCli(['cp', `${id}:cp/f.bin`, join(dir, 'one.bin')], env)).code).toBe(0);
      expect(readFileSync(join(dir, 'one.bin')).equals(data)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
