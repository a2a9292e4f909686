import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { freePort, startNatsServer, startRedisServer, waitFor, type ServerProcess, type ServiceProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localServer, readBody, startEgress } from './helpers.js';

// Egress as a real process in front of local fake upstreams: one allow-listed by EGRESS_ALLOW_HOSTS,
// one by GITHUB_URL, one on no list.
let nats: ServerProcess & { url: string };
let redis: ServerProcess & { url: string };
let egress: ServiceProcess;
let proxyPort: number;
let deadPort: number;
let healthPort: number;
const BIG = randomBytes(24 * 1024 * 1024); // a pack-sized body, streamed both ways
const TOKEN = `ghp_${randomBytes(16).toString('hex')}`;
const PROXY_PASSWORD = `pp${randomBytes(12).toString('hex')}`;
const seen: { headers: IncomingHttpHeaders; path: string | undefined; bodyHash: string }[] = [];

const upstream = async () =>
  localServer((req, res) => {
    void readBody(req).then((body) => {
      seen.push({ headers: req.headers, path: req.url, bodyHash: createHash('sha256').update(body).digest('hex') });
      if (req.url === '/big') return res.writeHead(200, { 'content-length': BIG.length }).end(BIG);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' }).end(`hello ${req.method} ${req.url}`);
    });
  });
/** git with no proxy exceptions (127.0.0.1 must go through the proxy). */
const GIT_ENV = { ...process.env, no_proxy: '', NO_PROXY: '', GIT_TERMINAL_PROMPT: '0' };
const git = (args: string[], cwd = gitDir) => execFileSync('git', args, { cwd, env: GIT_ENV, stdio: 'pipe' }).toString();
const gitDir = mkdtempSync(join(tmpdir(), 'berth-egress-git-'));

/** A repository (with a 2 MiB file) served over git's dumb HTTP protocol by a static file server. */
async function gitServer(): Promise<Awaited<ReturnType<typeof localServer>>> {
  const src = join(gitDir, 'src');
  git(['init', '-q', '-b', 'main', 'src']);
  writeFileSync(join(src, 'pack.bin'), randomBytes(2 * 1024 * 1024));
  git(['add', '.'], src);
  git(['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'one'], src);
  git(['clone', '-q', '--bare', 'src', 'repo.git']);
  git(['update-server-info'], join(gitDir, 'repo.git'));
  return localServer((req, res) => {
    try {
      res.end(readFileSync(join(gitDir, normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)))));
    } catch {
      res.writeHead(404).end();
    }
  });
}
let gitFiles: Awaited<ReturnType<typeof localServer>>;
let allowed: Awaited<ReturnType<typeof upstream>>;
let github: Awaited<ReturnType<typeof upstream>>;
let other: Awaited<ReturnType<typeof upstream>>;

/** A request through the proxy: absolute URI, like git and npm send with http_proxy. */
function viaProxy(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      void readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** CONNECT host:port, then (if 200) one plain HTTP request through the tunnel. */
function tunnel(authority: string, path = '/t'): Promise<{ status: string; inner?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(proxyPort, '127.0.0.1');
    let buf = '';
    let established = false;
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!established && buf.includes('\r\n\r\n')) {
        const status = buf.split('\r\n')[0]!;
        if (!status.includes(' 200 ')) {
          s.destroy();
          resolve({ status });
          return;
        }
        established = true;
        buf = '';
        s.write(`GET ${path} HTTP/1.1\r\nhost: ${authority}\r\nauthorization: Bearer ${TOKEN}\r\nconnection: close\r\n\r\n`);
      }
    });
    s.on('end', () => {
      if (established) resolve({ status: '200', inner: buf });
    });
    s.on('error', reject);
    s.write(
      `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\nproxy-authorization: Basic ${Buffer.from(`u:${PROXY_PASSWORD}`).toString('base64')}\r\n\r\n`,
    );
  });
}

beforeAll(async () => {
  [nats, redis, allowed, github, other, gitFiles] = await Promise.all([startNatsServer(), startRedisServer(), upstream(), upstream(), upstream(), gitServer()]);
  [proxyPort, deadPort, healthPort] = await Promise.all([freePort(), freePort(), freePort()]);
  egress = await startEgress({
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    EGRESS_PROXY_PORT: String(proxyPort),
    EGRESS_ALLOW_HOSTS: `registry.npmjs.org,127.0.0.1:${allowed.port},127.0.0.1:${deadPort},127.0.0.1:${gitFiles.port}`,
    GITHUB_URL: `http://127.0.0.1:${github.port}`,
    EGRESS_CONNECT_TIMEOUT_MS: '2000',
    EGRESS_HEALTH_PORT: String(healthPort),
  });
});

afterAll(async () => {
  await egress?.kill('SIGTERM');
  await Promise.all([allowed?.close(), github?.close(), other?.close(), gitFiles?.close()]);
  rmSync(gitDir, { recursive: true, force: true });
  await Promise.all([nats?.dispose(), redis?.dispose()]);
});

describe('egress forward proxy', () => {
  test('plain HTTP to an allow-listed host: passed through with Authorization, without proxy credentials', async () => {
    const r = await viaProxy(`http://127.0.0.1:${allowed.port}/owner/repo.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${TOKEN}`, 'proxy-authorization': `Basic ${PROXY_PASSWORD}`, 'x-custom': '1' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['x-upstream']).toBe('yes');
    expect(r.body.toString()).toBe('hello GET /owner/repo.git/info/refs?service=git-upload-pack');
    const got = seen.at(-1)!;
    expect(got.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(got.headers['x-custom']).toBe('1');
    expect(got.headers['proxy-authorization']).toBeUndefined();
    expect(got.headers.host).toBe(`127.0.0.1:${allowed.port}`);
  });

  test('bodies stream both ways intact (24 MiB download and upload)', async () => {
    const down = await viaProxy(`http://127.0.0.1:${allowed.port}/big`);
    expect(down.status).toBe(200);
    expect(down.body.equals(BIG)).toBe(true);
    const up = await viaProxy(`http://127.0.0.1:${github.port}/owner/repo.git/git-receive-pack`, { method: 'POST', body: BIG });
    expect(up.status).toBe(200);
    expect(seen.at(-1)!.bodyHash).toBe(createHash('sha256').update(BIG).digest('hex'));
  });

  test('CONNECT tunnels to allow-listed hosts (EGRESS_ALLOW_HOSTS and GITHUB_URL)', async () => {
    for (const port of [allowed.port, github.port]) {
      const t = await tunnel(`127.0.0.1:${port}`, '/through-tunnel');
      expect(t.status).toBe('200');
      expect(t.inner).toMatch(/^HTTP\/1.1 200 OK\r\n/);
      expect(t.inner).toContain('hello GET /through-tunnel');
    }
  });

  test('anything else is refused with 403 and one log line naming host, method and outcome', async () => {
    const r = await viaProxy(`http://127.0.0.1:${other.port}/secret-path?token=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(403);
    expect(r.body.toString()).toMatch(/not on the allow-list/);
    const t = await tunnel(`127.0.0.1:${other.port}`);
    expect(t.status).toMatch(/^HTTP\/1.1 403/);
    const hostLast = await tunnel('example.com:443');
    expect(hostLast.status).toMatch(/^HTTP\/1.1 403/);
    expect((await tunnel('registry.npmjs.org:22')).status).toMatch(/^HTTP\/1.1 403/);
    expect(seen.some((s) => s.path?.includes('secret-path'))).toBe(false);
    const refusedLines = () => egress.allOutput.split('\n').filter((l) => l.includes('"outcome":"refused"'));
    // The log lines reach this process through egress's stdout a moment after the answers.
    await waitFor(
      'the refusal log lines',
      () => {
        const l = refusedLines();
        return l.some((x) => x.includes('"kind":"connect"') && x.includes(`"port":${other.port}`)) && l.some((x) => x.includes('"host":"example.com"'));
      },
      5_000,
      20,
    );
    const lines = refusedLines();
    const forOther = lines.filter((l) => l.includes(`"port":${other.port}`)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(forOther.map((l) => [l.kind, l.method, l.host])).toEqual([
      ['http', 'GET', '127.0.0.1'],
      ['connect', 'CONNECT', '127.0.0.1'],
    ]);
    expect(lines.some((l) => l.includes('"host":"example.com"'))).toBe(true);
  });

  test('bad requests and dead upstreams get 400/502, and egress keeps serving', async () => {
    expect((await viaProxy('/not-absolute')).status).toBe(400);
    expect((await viaProxy(`https://127.0.0.1:${allowed.port}/`)).status).toBe(400);
    // allow-listed, nothing listening: 502, not a crash
    expect((await viaProxy(`http://127.0.0.1:${deadPort}/`)).status).toBe(502);
    expect((await tunnel(`127.0.0.1:${deadPort}`)).status).toMatch(/^HTTP\/1.1 502/);
    // a client that vanishes mid-download
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: `http://127.0.0.1:${allowed.port}/big` }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    const r = await viaProxy(`http://127.0.0.1:${github.port}/still-alive`);
    expect(r.status).toBe(200);
    expect(egress.running).toBe(true);
  });

  test('a real git clone goes through the proxy to an allow-listed host, and is refused for any other', async () => {
    // async: the static server runs in this process
    const proxied = (url: string, into: string) =>
      promisify(execFile)('git', ['-c', `http.proxy=http://127.0.0.1:${proxyPort}`, 'clone', '-q', url, into], { cwd: gitDir, env: GIT_ENV });
    await proxied(`http://127.0.0.1:${gitFiles.port}/repo.git`, 'cloned');
    expect(readFileSync(join(gitDir, 'cloned', 'pack.bin')).equals(readFileSync(join(gitDir, 'src', 'pack.bin')))).toBe(true);
    expect(egress.allOutput).toMatch(new RegExp(`"method":"GET","host":"127.0.0.1","port":${gitFiles.port},"outcome":"allowed"`));
    await expect(proxied(`http://127.0.0.1:${other.port}/repo.git`, 'refused')).rejects.toThrow(/403/);
  });

  test('health is ok and /metrics counts requests by kind and outcome', async () => {
    const health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const count = (kind: string, outcome: string) =>
      Number(new RegExp(`berth_egress_proxy_requests_total\\{[^}]*kind="${kind}",outcome="${outcome}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('http', 'refused')).toBeGreaterThanOrEqual(1);
    expect(count('connect', 'refused')).toBe(3);
    expect(count('connect', 'allowed')).toBe(2);
    expect(count('http', 'upstream_error')).toBe(1);
    expect(count('http', 'bad_request')).toBe(2);
  });

  test('no token, no proxy password in anything egress wrote', () => {
    expect(egress.allOutput).toContain('"outcome":"allowed"'); // debug lines were on
    expect(egress.allOutput).not.toContain(TOKEN);
    expect(egress.allOutput).not.toContain(PROXY_PASSWORD);
    expect(egress.allOutput.toLowerCase()).not.toContain('authorization');
  });
});
