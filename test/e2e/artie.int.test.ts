import { execFileSync } from 'node:child_process';
import { nodeImage } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { NODE_APP_FIXTURE, startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// Artie's documented requests (its README's examples, exactly as written) replayed against the
// real local stack, with a fake GitHub instead of GitHub. Only the base URL and the key change.
const ARTIE_IMAGE = 'node:24-slim';
const GITHUB_TOKEN = `gho_${'ArtieCompat0'.repeat(3)}`;
const CALLBACK_SECRET = 'secret123';
const VOLUME = 'owner-repo-node_modules';
/** A workspaces' network of this test's own (made with berth's options by the stack, removed after). */
const NETWORK = `berth-artie-${Date.now().toString(36)}`;

/** No registry here: a stand-in for Artie's image (berth/base + Node and npm, CMD ["node"], no berth label), only when the engine has none. */
function ensureArtieImage(): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', ARTIE_IMAGE], { stdio: 'ignore' });
    return false;
  } catch {
    execFileSync('docker', ['tag', nodeImage(), ARTIE_IMAGE]);
    return true;
  }
}

const inspect = (id: string) =>
  JSON.parse(execFileSync('docker', ['inspect', id], { encoding: 'utf8' }))[0] as {
    Config: { User: string; Entrypoint: string[] | null };
    HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; Tmpfs: Record<string, string> };
    Mounts: { Type: string; Name?: string; Destination: string }[];
  };

let f: SetupFixture;
let receiver: CallbackReceiver;
let madeImage = false;

beforeAll(async () => {
  madeImage = ensureArtieImage();
  receiver = await CallbackReceiver.start(CALLBACK_SECRET);
  f = await startSetupFixture(
    GITHUB_TOKEN,
    { SETUP_INSTALL_TIMEOUT_MS: '30000', SETUP_START_TIMEOUT_MS: '30000', WORKSPACE_NETWORK: NETWORK },
    { withEgress: true, egressAllowCidrs: '127.0.0.1/32' },
  );
  await f.github.createRepo('owner/repo', { fromDir: NODE_APP_FIXTURE, token: GITHUB_TOKEN });
}, 180_000);

afterAll(async () => {
  await f?.stop();
  await receiver?.close();
  execFileSync('docker', ['network', 'rm', NETWORK], { stdio: 'ignore' });
  if (madeImage) execFileSync('docker', ['rmi', ARTIE_IMAGE], { stdio: 'ignore' });
});

/** A request as Artie's client sends it: the raw body text, JSON content type, the key as a bearer header. */
async function artie(method: string, path: string, body?: string) {
  const res = await fetch(`${f.stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${f.stack.token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body }),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

describe("Artie's README examples, verbatim", () => {
  let id: string;
  let hostPort: number;

  test('GET /health', async () => {
    const r = await fetch(`${f.stack.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok' });
  });

  test('POST /api/containers with node:24-slim, ports and volumeName → {id, name, hostPort}, a hardened workspace under the keep-alive', async () => {
    const r = await artie('POST', '/api/containers', '{"name":"my-project","image":"node:24-slim","ports":[3000],"volumeName":"owner-repo-node_modules"}');
    expect(r.status, r.text).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({ name: 'my-project', image: ARTIE_IMAGE, volumeName: VOLUME, warm: false, state: 'claimed' });
    expect(body.id).toMatch(/^ws_/);
    expect(body.hostPort).toBe((body.ports as Record<string, number>)['3000']);
    ({ id } = body as { id: string });
    hostPort = body.hostPort as number;

    // Same hardening as berth's own image; node's CMD (which exits without a terminal) replaced.
    const engine = execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', `label=berth.id=${id}`], { encoding: 'utf8' }).trim();
    const c = inspect(engine);
    expect(c.Config.User).toBe('1000:1000');
    expect(c.Config.Entrypoint?.[0]).toBe('/bin/sh');
    expect([c.HostConfig.ReadonlyRootfs, c.HostConfig.CapDrop]).toEqual([true, ['ALL']]);
    expect(Object.keys(c.HostConfig.Tmpfs).sort()).toEqual(['/home/berth', '/tmp']);
    const at = (dest: string) => c.Mounts.find((m) => m.Destination === dest)?.Name;
    expect(at('/workspace')).toBe(`berth-${id}`);
    expect(at('/app')).toBe(`berth-${id}`);
    expect(at('/workspace/repo/node_modules')).toMatch(/^berth-vol-[0-9a-f]{32}$/);
  }, 60_000);

  test("its commands run through berth's agent (mounted from the host, run by the image's node), as uid 1000 with a writable /workspace", async () => {
    // Under the agent a command's parent is its tini; under `docker exec` it is `timeout` or nothing.
    const viaAgent = async () => (await f.client.exec(id, "tr '\\0' ' ' < /proc/$PPID/cmdline")).stdout.match(/^\/usr\/bin\/tini(-static)? -s/) !== null;
    const deadline = Date.now() + 10_000;
    while (!(await viaAgent()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    expect(await viaAgent()).toBe(true);
    const r = await f.client.exec(id, 'id -u && echo ok > /workspace/probe && cat /app/probe && rm /workspace/probe');
    expect(r).toMatchObject({ exitCode: 0, stdout: '1000\nok\n' });
  }, 30_000);

  test('POST .../exec {"command": "ls -la /app", "timeout": 60000}', async () => {
    const r = await artie('POST', `/api/containers/${id}/exec`, '{"command": "ls -la /app", "timeout": 60000}');
    expect(r.status, r.text).toBe(200);
    expect(r.json()).toMatchObject({ exitCode: 0, timedOut: false, truncated: false });
    expect(r.json().stdout).toContain('repo');
  });

  test('POST .../setup with Artie\'s body (callbackSecret "secret123") → 202, ready, signed callbacks, dev server on hostPort, node_modules in the cache', async () => {
    const body = `{"repo":"owner/repo","branch":"main","githubToken":"${GITHUB_TOKEN}","callbackUrl":"${receiver.url.replace(/\/hook$/, '/docker-status')}","callbackSecret":"secret123","hasMainImage":false,"buildMainImage":true,"envVars":{"NODE_ENV":"development"}}`;
    const r = await artie('POST', `/api/containers/${id}/setup`, body);
    expect(r.status, r.text).toBe(202);
    expect(r.json()).toMatchObject({ id, phase: 'queued', repo: 'owner/repo', branch: 'main' });
    const done = await f.client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', source: 'clone' });
    expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toContain('main');
    // The checkout at Artie's path too.
    expect((await f.client.exec(id, ['test', '-f', '/app/repo/package.json'])).exitCode).toBe(0);
    // Callbacks arrive signed with Artie's secret, verified with the standardwebhooks package.
    const deadline = Date.now() + 15_000;
    while (!receiver.accepted().some((c) => c.body.includes('"ready"')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(receiver.accepted().some((c) => c.body.includes('"ready"'))).toBe(true);
    expect(receiver.received.filter((c) => c.outcome === 'invalid')).toEqual([]);
  }, 150_000);

  test('GET /api/containers and GET /api/containers/:id', async () => {
    const list = await artie('GET', '/api/containers');
    expect(list.status).toBe(200);
    expect((list.json().containers as { id: string }[]).map((c) => c.id)).toContain(id);
    const one = await artie('GET', `/api/containers/${id}`);
    expect(one.status).toBe(200);
    expect(one.json()).toMatchObject({ id, name: 'my-project', hostPort });
  });

  test('the API key in a URL (?token=) is refused with a 401 that names the ticket route', async () => {
    const r = await fetch(`${f.stack.url}/api/containers/${id}/logs?token=${f.stack.token}`);
    expect(r.status).toBe(401);
    const err = (await r.json()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('UNAUTHORIZED');
    expect(err.error.message).toContain('POST /api/containers/{id}/tickets');
  });

  test('DELETE /api/containers/:id with content-type application/json and no body', async () => {
    const r = await artie('DELETE', `/api/containers/${id}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json()).toEqual({ id, removed: true });
  });

  test("the node_modules cache (volumeName) is kept for the owner's next workspace", async () => {
    const r = await artie('POST', '/api/containers', '{"name":"my-project","image":"node:24-slim","ports":[3000],"volumeName":"owner-repo-node_modules"}');
    expect(r.status, r.text).toBe(201);
    const next = r.json().id as string;
    expect((await f.client.exec(next, ['test', '-f', '/workspace/repo/node_modules/dep/package.json'])).exitCode).toBe(0);
    expect((await artie('DELETE', `/api/containers/${next}`)).status).toBe(200);
    expect((await artie('DELETE', `/api/volumes/${VOLUME}`)).status).toBe(200);
  }, 60_000);

  test('pool: true is a warm claim from the default pool, pool: false a cold create', async () => {
    const warm = await artie('POST', '/api/containers', '{"name":"pooled","pool":true}');
    expect(warm.status, warm.text).toBe(201);
    expect(warm.json()).toMatchObject({ warm: true, pool: 'default' });
    const cold = await artie('POST', '/api/containers', '{"name":"unpooled","pool":false}');
    expect(cold.status, cold.text).toBe(201);
    expect(cold.json()).toMatchObject({ warm: false, pool: 'default' });
    for (const c of [warm, cold]) expect((await artie('DELETE', `/api/containers/${c.json().id as string}`)).status).toBe(200);
  }, 60_000);
});
