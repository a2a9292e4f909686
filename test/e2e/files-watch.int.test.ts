import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBerth } from '../../packages/sdk/test/cli.js';
import { Berth, type WatchEvent as SdkWatchEvent } from '../../packages/sdk/src/index.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

// Files watch as a caller sees it: real gateway, pool-manager, NATS, Redis and Docker, the
// workspace's agent scanning. Every change is made around berth (docker exec as the workspace
// user). FILES_TEST_IMAGE: a workspace image with this checkout's agent
// (`WORKSPACE_IMAGE=berth/workspace:files-watch docker/base-images.sh`); the lead's rebuild makes it latest.
const IMAGE = process.env.FILES_TEST_IMAGE ?? 'berth/workspace:latest';
// Room for the docker execs a test runs between a disconnect and its resume on a loaded machine.
const RESUME_MS = 5_000;
let stack: LocalStack;
let id: string;

beforeAll(async () => {
  stack = await startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 1, maxCreating: 1, memoryMb: 256, pids: 128, image: IMAGE }]),
    FILES_WATCH_MAX_PER_WORKSPACE: '2',
    FILES_WATCH_RESUME_MS: String(RESUME_MS),
    FILES_WATCH_MAX_ENTRIES: '100',
    FILES_WATCH_INTERVAL_MS: '100',
  });
  id = await create();
  inWorkspace(
    'mkdir -p /workspace/w /workspace/big && cd /workspace/big && for i in $(seq 1 120); do : > f$i; done && ln -s /etc /workspace/out && ln -s /workspace/w /workspace/in',
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const auth = () => ({ authorization: `Bearer ${stack.token}` });

async function create(): Promise<string> {
  const res = await fetch(`${stack.url}/api/containers`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
  return ((await res.json()) as { id: string }).id;
}

function inWorkspace(cmd: string, ws = id): string {
  const ref = execFileSync('docker', ['ps', '-q', '--filter', `label=berth.id=${ws}`], { encoding: 'utf8' }).trim();
  return execFileSync('docker', ['exec', '-u', '1000', ref, 'sh', '-c', cmd], { encoding: 'utf8' });
}

/** Descriptors of the agent's processes open on /workspace/w: one per watch of it. */
const agentWatchFds = () =>
  Number(inWorkspace("for p in $(pgrep -f berth-agent.mjs); do ls -l /proc/$p/fd 2>/dev/null; done | grep -c ' -> /workspace/w$' || true").trim());

interface WatchEvent {
  id: string;
  event: string;
  data: { kind: string; path?: string; type?: string; reason?: string; error?: { code: string } };
}

/** An SSE client over fetch: events queue up; `next` waits for the first that matches. */
async function watch(path: string, opts: { recursive?: boolean; lastEventId?: string; ws?: string } = {}) {
  const abort = new AbortController();
  const headers: Record<string, string> = { ...auth(), accept: 'text/event-stream', ...(opts.lastEventId && { 'last-event-id': opts.lastEventId }) };
  const url = `${stack.url}/api/containers/${opts.ws ?? id}/files/watch?path=${encodeURIComponent(path)}${opts.recursive ? '&recursive=true' : ''}`;
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: WatchEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  if (res.ok) {
    void (async () => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let end;
          while ((end = buf.indexOf('\n\n')) !== -1) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const e = { id: '', event: 'message', data: '' };
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) e.id = line.slice(4);
              else if (line.startsWith('event: ')) e.event = line.slice(7);
              else if (line.startsWith('data: ')) e.data = line.slice(6);
            }
            if (e.data) events.push({ ...e, data: JSON.parse(e.data) as WatchEvent['data'] });
            wake?.();
          }
        }
      } catch {
        /* aborted */
      }
      ended = true;
      wake?.();
    })();
  }
  let seen = 0;
  return {
    res,
    events,
    get ended() {
      return ended;
    },
    close: () => abort.abort(),
    /** The next event after those already taken that matches; fails after `timeoutMs`. */
    async next(match: (e: WatchEvent) => boolean = () => true, timeoutMs = 10_000): Promise<WatchEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (seen < events.length) {
          const e = events[seen++]!;
          if (match(e)) return e;
        }
        if (ended) throw new Error(`stream ended; events: ${JSON.stringify(events)}`);
        if (Date.now() > deadline) throw new Error(`no matching event; events: ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
    },
    async waitEnded(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return ended;
    },
  };
}

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const change = (kind: string, path: string) => (e: WatchEvent) => e.event === kind && e.data.path === path;

describe('files watch', () => {
  test('created, modified, deleted in order; a plain watch sees one level, a recursive one the tree', async () => {
    const flat = await watch('w');
    const deep = await watch('/workspace/w', { recursive: true });
    expect(flat.res.status).toBe(200);
    expect(flat.res.headers.get('content-type')).toContain('text/event-stream');
    inWorkspace('echo one > /workspace/w/a.txt');
    const created = await flat.next();
    expect(created).toMatchObject({ event: 'created', data: { kind: 'created', path: 'w/a.txt', type: 'file' } });
    expect(created.id).toMatch(/^w_[0-9a-f]{24}\.1$/);
    inWorkspace('echo two more >> /workspace/w/a.txt');
    expect(await flat.next()).toMatchObject({ event: 'modified', data: { path: 'w/a.txt', size: 13 } });
    inWorkspace('rm /workspace/w/a.txt');
    expect(await flat.next()).toMatchObject({ event: 'deleted', data: { path: 'w/a.txt' } });
    // Ids grow one by one.
    expect(flat.events.map((e) => Number(e.id.split('.')[1]))).toEqual([1, 2, 3]);

    inWorkspace('mkdir -p /workspace/w/sub && echo x > /workspace/w/sub/deep.txt');
    await flat.next(change('created', 'w/sub'));
    await deep.next(change('created', '/workspace/w/sub/deep.txt'));
    // (What happens between two scans is coalesced: on a loaded machine the recursive watch may
    // not have seen a.txt's short life, so only the tree below is asserted.)
    expect(deep.events.map((e) => `${e.event} ${e.data.path}`).filter((e) => e.includes('/sub'))).toEqual([
      'created /workspace/w/sub',
      'created /workspace/w/sub/deep.txt',
    ]);
    // Give the plain watch a few scans: it never reports what is below w/sub.
    inWorkspace('echo y > /workspace/w/sub/deeper.txt && echo z > /workspace/w/marker');
    await flat.next(change('created', 'w/marker'));
    expect(flat.events.some((e) => e.data.path?.includes('deep'))).toBe(false);
    flat.close();
    deep.close();
    await new Promise((r) => setTimeout(r, RESUME_MS + 500));
  }, 60_000);

  test('paths outside /workspace, through a symlink or not, are refused with their code; so are files and missing paths', async () => {
    for (const path of ['/etc', '../etc', '/workspace/../tmp', 'out']) {
      const w = await watch(path);
      expect(w.res.status, path).toBe(400);
      expect(await errorCode(w.res), path).toBe('PATH_OUTSIDE_WORKSPACE');
    }
    // A link to a directory inside is fine: the directory it names is watched.
    const inside = await watch('in');
    expect(inside.res.status).toBe(200);
    inside.close();
    inWorkspace('echo f > /workspace/plain.txt');
    const file = await watch('plain.txt');
    expect([file.res.status, await errorCode(file.res)]).toEqual([409, 'NOT_A_DIRECTORY']);
    const missing = await watch('nope');
    expect([missing.res.status, await errorCode(missing.res)]).toEqual([404, 'FILE_NOT_FOUND']);
    const bad = await watch('w', { lastEventId: 'not-an-id' });
    expect([bad.res.status, await errorCode(bad.res)]).toEqual([400, 'VALIDATION_FAILED']);
    const big = await watch('big', { recursive: true });
    expect([big.res.status, await errorCode(big.res)]).toEqual([422, 'WATCH_TOO_LARGE']);
    // Let the closed watches' resume windows pass.
    await new Promise((r) => setTimeout(r, RESUME_MS + 500));
  }, 60_000);

  test('a reconnect with Last-Event-ID gets exactly what it missed; an unknown id starts over with a reset', async () => {
    const first = await watch('w');
    inWorkspace('echo 1 > /workspace/w/r1');
    const seen = await first.next(change('created', 'w/r1'));
    first.close();
    inWorkspace('echo 2 > /workspace/w/r2');
    await new Promise((r) => setTimeout(r, 400));
    inWorkspace('rm /workspace/w/r1');
    const again = await watch('w', { lastEventId: seen.id });
    expect(again.res.status).toBe(200);
    const replay = [await again.next(), await again.next()];
    // One scan or two (a loaded machine paces scans further apart than the 400 ms above): the order
    // of the two changes is the scan's, the numbering follows on from the last one seen.
    expect(replay.map((e) => `${e.event} ${e.data.path}`).sort()).toEqual(['created w/r2', 'deleted w/r1']);
    const [watchId, seq] = seen.id.split('.');
    expect(replay.map((e) => e.id)).toEqual([`${watchId}.${Number(seq) + 1}`, `${watchId}.${Number(seq) + 2}`]);
    again.close();

    const unknown = await watch('w', { lastEventId: `w_${'0'.repeat(24)}.7` });
    expect(unknown.res.status).toBe(200);
    expect(await unknown.next()).toMatchObject({ event: 'reset', data: { kind: 'reset', reason: 'unknown' } });
    inWorkspace('echo 3 > /workspace/w/r3');
    await unknown.next(change('created', 'w/r3'));
    unknown.close();
    await new Promise((r) => setTimeout(r, RESUME_MS + 500));
  }, 60_000);

  test('watches per workspace are limited; a caller that goes away frees its watch in the agent', async () => {
    const a = await watch('w');
    const b = await watch('w', { recursive: true });
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    const c = await watch('w');
    expect([c.res.status, await errorCode(c.res)]).toEqual([409, 'WATCH_LIMIT_REACHED']);
    // Each watch holds the directory open in the agent: seen from inside the workspace.
    expect(agentWatchFds()).toBe(2);
    a.close();
    b.close();
    // Past the resume window both are released in pool-manager and in the agent (which counts its
    // own: a watch it still held would refuse these with the same code).
    await new Promise((r) => setTimeout(r, RESUME_MS + 1_000));
    expect(agentWatchFds()).toBe(0);
    const d = await watch('w');
    const e = await watch('w');
    expect([d.res.status, e.res.status]).toEqual([200, 200]);
    inWorkspace('echo l > /workspace/w/limit');
    await d.next(change('created', 'w/limit'));
    await e.next(change('created', 'w/limit'));
    d.close();
    e.close();
    await new Promise((r) => setTimeout(r, RESUME_MS + 500));
  }, 60_000);

  test('SDK: container.files.watch() iterates the changes and stops on its signal', async () => {
    const container = await new Berth({ url: stack.url, apiKey: stack.token }).containers.get(id);
    const abort = new AbortController();
    const seen: SdkWatchEvent[] = [];
    const loop = (async () => {
      for await (const e of container.files.watch('w', { recursive: true, signal: abort.signal })) {
        seen.push(e);
        if (e.kind === 'deleted') abort.abort();
      }
    })();
    // The watch is ready once its first scan is done (later on a loaded machine): a file a second
    // until one is told, then each change only once the one before it was seen (scans coalesce).
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 30 && seen.length === 0; i++) {
      inWorkspace(`echo r > /workspace/w/ready-${i}`);
      await sleep(1_000);
    }
    const from = seen.length;
    inWorkspace('mkdir -p /workspace/w/sdk && echo s > /workspace/w/sdk/s.txt');
    for (let i = 0; i < 200 && !seen.some((e) => e.kind === 'created' && e.path === 'w/sdk/s.txt'); i++) await sleep(100);
    inWorkspace('rm -r /workspace/w/sdk');
    await expect(loop).rejects.toMatchObject({ name: 'BerthAbortError' });
    expect(
      seen
        .slice(from)
        .map((e) => `${e.kind} ${'path' in e ? e.path : ''}`)
        .slice(0, 3),
    ).toEqual(['created w/sdk', 'created w/sdk/s.txt', 'deleted w/sdk/s.txt']);
    expect(seen[0]!.id).toMatch(/^w_[0-9a-f]{24}\.1$/);
    await new Promise((r) => setTimeout(r, RESUME_MS + 500));
  }, 60_000);

  test('a watch ends with `end` (paused) when its workspace is paused, and (deleted) when it is deleted', async () => {
    const w = await watch('w');
    expect(w.res.status).toBe(200);
    const paused = await fetch(`${stack.url}/api/containers/${id}/pause`, { method: 'POST', headers: auth() });
    expect(paused.status).toBe(200);
    expect(await w.next((e) => e.event === 'end')).toMatchObject({ data: { kind: 'end', reason: 'paused' } });
    expect(await w.waitEnded()).toBe(true);
    // Watching a paused workspace does not resume it.
    const refused = await watch('w');
    expect([refused.res.status, await errorCode(refused.res)]).toEqual([409, 'CONTAINER_PAUSED']);
    expect((await fetch(`${stack.url}/api/containers/${id}/resume`, { method: 'POST', headers: auth() })).status).toBe(200);

    const other = await create();
    inWorkspace('mkdir -p /workspace/d', other);
    const d = await watch('d', { ws: other });
    expect(d.res.status).toBe(200);
    // The CLI too: one line per change, and it exits 0 when the workspace goes.
    const cli = startBerth(['watch', other, 'd'], { BERTH_URL: stack.url, BERTH_API_KEY: stack.token, HOME: '/nonexistent' });
    // Until its watch is up (the CLI's start takes a while on a loaded machine), a file a second.
    for (let i = 0; i < 30 && !cli.stdout().includes('created'); i++) {
      inWorkspace(`echo c > /workspace/d/cli-${i}.txt`, other);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect((await fetch(`${stack.url}/api/containers/${other}`, { method: 'DELETE', headers: auth() })).status).toBeLessThan(300);
    expect(await d.next((e) => e.event === 'end')).toMatchObject({ data: { kind: 'end', reason: 'deleted' } });
    expect(await d.waitEnded()).toBe(true);
    const out = await cli.result;
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^(created file d\/cli-\d+\.txt\n)+end deleted\n$/);
  }, 90_000);
});
