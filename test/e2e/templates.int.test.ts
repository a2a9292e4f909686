import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tarOf, templateImageTag } from '@berth/service-kit';
import { mintKey } from '@berth/gateway';
import { callApi } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';
import { buildOutput, buildTemplate } from '../support/template-api.js';
import { removeTemplates } from '../support/template-cleanup.js';

// Templates through the API on the real stack (gateway → each host's image-builder over NATS):
// built from text and from a tar, output streamed as it builds, a workspace made from one runs as
// uid 1000, another owner cannot see, use or delete it, hostile input is a 4xx with its code.
const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';
const alice = mintKey({ name: 'alice', owner: `alice-${randomBytes(3).toString('hex')}`, scopes: ['read', 'write', 'exec'] });
const bob = mintKey({ name: 'bob', owner: `bob-${randomBytes(3).toString('hex')}`, scopes: ['read', 'write', 'exec'] });
const aliceReader = mintKey({ name: 'alice-reader', owner: alice.entry.owner, scopes: ['read'] });
const NAME = `tools-${randomBytes(3).toString('hex')}`;
const TAR_NAME = `ctx-${randomBytes(3).toString('hex')}`;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack(
    {
      POOLS: JSON.stringify([
        { name: 'default', targetSize: 0, maxCreating: 1, memoryMb: 128, pids: 64 },
        // Alice's pool of her template: filled once the template is built here, claimable by her alone.
        { name: 'alice-tools', template: NAME, owner: alice.entry.owner, targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 128, pids: 64 },
      ]),
      MAX_CONTAINERS: '4',
      RECONCILE_INTERVAL_MS: '1000',
    },
    'warn',
    {
      keys: [alice.entry, bob.entry, aliceReader.entry],
      imageBuilder: true,
      imageBuilderEnv: { MAX_TEMPLATES_PER_OWNER: '2' },
      gatewayEnv: { TEMPLATE_CONTEXT_MAX_BYTES: String(2 * 1024 * 1024), RATE_LIMIT_RPS: '0' },
    },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (stack) removeTemplates(stack.hostId, [alice.entry.owner, bob.entry.owner], [NAME, TAR_NAME, 'third', 'quick', 'slow', 'broken']);
}, 60_000);

const call = (key: string, method: string, path: string, body?: unknown) => callApi(stack.url, key, method, path, body);

const build = (key: string, init: { json?: unknown; tar?: Buffer; name?: string }) => buildTemplate(stack.url, key, init);

async function createFrom(key: string, template: string) {
  return call(key, 'POST', '/api/containers', { template, pool: false });
}

describe('templates through the API', () => {
  test('from Dockerfile text: output streamed as it builds, done names the host; a workspace of it runs as uid 1000 with its files', async () => {
    const dockerfile = [`FROM ${IMAGE}`, 'RUN echo step-one-output && sleep 3', 'RUN echo from-template > /workspace/marker', 'USER root'].join('\n');
    const started = Date.now();
    const r = await build(alice.key, { json: { name: NAME, dockerfile } });
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/x-ndjson');
    const last = r.events.at(-1)!;
    expect(last.event).toEqual({ type: 'done', name: NAME, built: [stack.hostId], failed: [] });
    expect(buildOutput(r.events)).toContain('step-one-output');
    // Streamed: the first step's output came while the build still ran (its sleep 3 and more were to come).
    const first = r.events.find((e) => e.event.type === 'output' && e.event.data.includes('step-one-output'))!;
    expect(last.at - first.at).toBeGreaterThan(2000);
    expect(first.at - started).toBeLessThan(last.at - started);
    const built = r.events.find((e) => e.event.type === 'built')!.event;
    expect(built).toMatchObject({ type: 'built', hostId: stack.hostId, template: { image: templateImageTag(alice.entry.owner, NAME), tree: true } });

    const created = await createFrom(alice.key, NAME);
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    const ran = await call(alice.key, 'POST', `/api/containers/${id}/exec`, { command: 'id -u; cat /workspace/marker' });
    expect(ran.json).toMatchObject({ exitCode: 0, stdout: '1000\nfrom-template\n' });
    expect((await call(alice.key, 'DELETE', `/api/containers/${id}`)).status).toBe(200);

    const got = await call(alice.key, 'GET', `/api/templates/${NAME}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ name: NAME, hosts: [{ hostId: stack.hostId, image: templateImageTag(alice.entry.owner, NAME) }] });
    const list = await call(aliceReader.key, 'GET', '/api/templates');
    expect(list.json).toMatchObject({ count: 1, limit: 2, templates: [{ name: NAME }] });
  }, 240_000);

  test('from a tar context with ?name=, as SSE: the context is there to COPY', async () => {
    const dockerfile = [`FROM ${IMAGE}`, 'COPY app/ /workspace/app/'].join('\n');
    const payload = randomBytes(700 * 1024).toString('base64');
    const tar = tarOf([
      { name: 'Dockerfile', content: dockerfile },
      { name: 'app/hello.txt', content: 'hello from the context\n' },
      { name: 'app/big.txt', content: payload },
    ]);
    const res = await fetch(`${stack.url}/api/templates?name=${TAR_NAME}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/x-tar', accept: 'text/event-stream' },
      body: tar,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toMatch(/event: output\n/);
    expect(text).toContain(`event: done\ndata: ${JSON.stringify({ type: 'done', name: TAR_NAME, built: [stack.hostId], failed: [] })}`);

    const created = await createFrom(alice.key, TAR_NAME);
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    const ran = await call(alice.key, 'POST', `/api/containers/${id}/exec`, { command: 'cat /workspace/app/hello.txt; sha256sum < /workspace/app/big.txt' });
    const { createHash } = await import('node:crypto');
    expect(ran.json.stdout).toBe(`hello from the context\n${createHash('sha256').update(payload).digest('hex')}  -\n`);
    await call(alice.key, 'DELETE', `/api/containers/${id}`);
  }, 240_000);

  test('a pool naming the template fills once it is built; its owner claims warm (by pool, or by template), others get POOL_NOT_FOUND', async () => {
    const warm = async () =>
      ((await call(alice.key, 'GET', '/api/pools')).json.pools as { name: string; warm: number }[]).find((p) => p.name === 'alice-tools')?.warm ?? 0;
    const deadline = Date.now() + 60_000;
    while ((await warm()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await warm()).toBe(1);
    const byBob = await call(bob.key, 'POST', '/api/containers', { pool: 'alice-tools' });
    expect([byBob.status, byBob.json.error?.code]).toEqual([404, 'POOL_NOT_FOUND']);
    const byTemplate = await call(alice.key, 'POST', '/api/containers', { template: NAME });
    expect(byTemplate.json, byTemplate.text).toMatchObject({ warm: true, pool: 'alice-tools' });
    const id = byTemplate.json.id as string;
    expect((await call(alice.key, 'POST', `/api/containers/${id}/exec`, { command: 'id -u; cat /workspace/marker' })).json).toMatchObject({
      stdout: '1000\nfrom-template\n',
    });
    await call(alice.key, 'DELETE', `/api/containers/${id}`);
  }, 120_000);

  test('another owner cannot see, use, build on or delete it', async () => {
    expect((await call(bob.key, 'GET', `/api/templates/${NAME}`)).json.error?.code).toBe('TEMPLATE_NOT_FOUND');
    expect((await call(bob.key, 'GET', '/api/templates')).json).toMatchObject({ count: 0, templates: [] });
    // Alice's template pool (its template's name and image) is not in Bob's list of pools; it is in hers.
    const poolsOf = async (key: string) => (await call(key, 'GET', '/api/pools')).json.pools as { name: string; template?: string; owner?: string }[];
    expect((await poolsOf(bob.key)).map((p) => p.name)).toEqual(['default']);
    expect((await poolsOf(alice.key)).find((p) => p.name === 'alice-tools')).toMatchObject({ template: NAME, owner: alice.entry.owner });
    const used = await createFrom(bob.key, NAME);
    expect([used.status, used.json.error?.code]).toEqual([404, 'TEMPLATE_NOT_FOUND']);
    const onTop = await build(bob.key, { json: { name: 'mine', dockerfile: `FROM ${templateImageTag(alice.entry.owner, NAME)}` } });
    expect([onTop.status, onTop.body?.error.code]).toEqual([400, 'TEMPLATE_BASE_NOT_ALLOWED']);
    const del = await call(bob.key, 'DELETE', `/api/templates/${NAME}`);
    expect([del.status, del.json.error?.code]).toEqual([404, 'TEMPLATE_NOT_FOUND']);
    expect((await call(alice.key, 'GET', `/api/templates/${NAME}`)).status).toBe(200);
    // A read-only key lists, but cannot build or delete.
    expect((await call(aliceReader.key, 'DELETE', `/api/templates/${NAME}`)).json.error?.code).toBe('FORBIDDEN');
  }, 60_000);

  test('hostile or impossible input: 4xx with its code before anything builds, never a 500', async () => {
    const cases: [unknown, number, string][] = [
      [{ name: '../etc', dockerfile: `FROM ${IMAGE}` }, 400, 'INVALID_NAME'],
      [{ name: 'Upper', dockerfile: `FROM ${IMAGE}` }, 400, 'INVALID_NAME'],
      [{ name: `x${'a'.repeat(70)}`, dockerfile: `FROM ${IMAGE}` }, 400, 'INVALID_NAME'],
      [{ name: 'ok' }, 400, 'VALIDATION_FAILED'],
      [{ name: 'ok', dockerfile: `FROM ${IMAGE}`, owner: 'someone-else' }, 400, 'UNKNOWN_FIELD'],
      [{ name: 'ok', dockerfile: 'FROM berth/busybox:latest' }, 400, 'TEMPLATE_BASE_NOT_ALLOWED'],
      [{ name: 'ok', dockerfile: 'FROM debian:bookworm' }, 400, 'TEMPLATE_BASE_NOT_ALLOWED'],
      [{ name: 'ok', dockerfile: `FROM ${IMAGE}\nADD http://127.0.0.1:1/x /x` }, 400, 'TEMPLATE_INSTRUCTION_NOT_ALLOWED'],
      [{ name: 'ok', dockerfile: 'ARG B=x\nFROM ${B}' }, 400, 'TEMPLATE_BASE_NOT_ALLOWED'],
      [{ name: 'ok', dockerfile: `FROM --platform=linux/amd64 ${IMAGE}` }, 400, 'TEMPLATE_INSTRUCTION_NOT_ALLOWED'],
      [{ name: 'ok', dockerfile: `FROM ${IMAGE}\nONBUILD RUN id` }, 400, 'TEMPLATE_INSTRUCTION_NOT_ALLOWED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await build(alice.key, { json: body });
      expect([r.status, r.body?.error.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const noDockerfile = await build(alice.key, { tar: tarOf([{ name: 'README', content: 'x' }]), name: 'ok' });
    expect([noDockerfile.status, noDockerfile.body?.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const badTarName = await build(alice.key, { tar: tarOf([{ name: 'Dockerfile', content: `FROM ${IMAGE}` }]), name: '..%2F..' });
    expect([badTarName.status, badTarName.body?.error.code]).toEqual([400, 'INVALID_NAME']);
    const tooBig = await build(alice.key, {
      tar: tarOf([
        { name: 'Dockerfile', content: `FROM ${IMAGE}` },
        { name: 'blob', content: randomBytes(3 * 1024 * 1024) },
      ]),
      name: 'ok',
    });
    expect([tooBig.status, tooBig.body?.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    for (const path of ['/api/templates/a.b', '/api/templates/-lead', '/api/templates/%2e%2e%2fx', '/api/templates/UPPER']) {
      const r = await call(alice.key, 'GET', path);
      expect([r.status, r.json.error?.code], path).toEqual([404, 'TEMPLATE_NOT_FOUND']);
    }
    // A failing RUN step: the build answers 200 (it started), its host `failed` with the code.
    const failing = await build(bob.key, { json: { name: 'broken', dockerfile: `FROM ${IMAGE}\nRUN echo about-to-fail && exit 3` } });
    expect(failing.status).toBe(200);
    expect(buildOutput(failing.events)).toContain('about-to-fail');
    expect(failing.events.find((e) => e.event.type === 'failed')?.event).toMatchObject({ hostId: stack.hostId, error: { code: 'TEMPLATE_BUILD_FAILED' } });
    expect(failing.events.at(-1)?.event).toEqual({ type: 'done', name: 'broken', built: [], failed: [stack.hostId] });
    expect((await call(bob.key, 'GET', '/api/templates/broken')).status).toBe(404);
    // Alice has 2 templates, the most allowed: a new name is refused, an existing one rebuilds.
    const third = await build(alice.key, { json: { name: 'third', dockerfile: `FROM ${IMAGE}` } });
    expect([third.status, third.body?.error.code]).toEqual([409, 'TEMPLATE_LIMIT_REACHED']);
  }, 240_000);

  test("a client that goes away cancels the build: its RUN step stops, nothing is tagged, the owner's next build is not blocked (it was while the first ran)", async () => {
    const abort = new AbortController();
    const res = await fetch(`${stack.url}/api/templates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'slow', dockerfile: `FROM ${IMAGE}\nRUN echo cancel-me-${stack.hostId} && sleep 120` }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    let seen = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      seen += decoder.decode(chunk, { stream: true });
      if (seen.includes(`cancel-me-${stack.hostId}\\n`)) break;
    }
    // One build per owner and host at a time: a second one while this runs is refused at once.
    const second = await build(bob.key, { json: { name: 'quick', dockerfile: `FROM ${IMAGE}` } });
    expect([second.status, second.body?.error.code]).toEqual([409, 'TEMPLATE_BUILD_IN_PROGRESS']);
    abort.abort();
    const running = () => execFileSync('docker', ['ps', '--format', '{{.Command}}', '--no-trunc'], { encoding: 'utf8' }).includes(`cancel-me-${stack.hostId}`);
    const deadline = Date.now() + 30_000;
    while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(running()).toBe(false);
    const next = await build(bob.key, { json: { name: 'quick', dockerfile: `FROM ${IMAGE}` } });
    expect(next.events.at(-1)?.event).toEqual({ type: 'done', name: 'quick', built: [stack.hostId], failed: [] });
    expect(((await call(bob.key, 'GET', '/api/templates')).json.templates as { name: string }[]).map((t) => t.name)).toEqual(['quick']);
  }, 120_000);

  test('deleted: gone from the list, and a create naming it is TEMPLATE_NOT_FOUND', async () => {
    const del = await call(alice.key, 'DELETE', `/api/templates/${TAR_NAME}`);
    expect(del.json).toEqual({ name: TAR_NAME, removed: true, hosts: [stack.hostId] });
    expect((await call(alice.key, 'GET', `/api/templates/${TAR_NAME}`)).json.error?.code).toBe('TEMPLATE_NOT_FOUND');
    expect(((await call(alice.key, 'GET', '/api/templates')).json.templates as { name: string }[]).map((t) => t.name)).toEqual([NAME]);
    const created = await createFrom(alice.key, TAR_NAME);
    expect([created.status, created.json.error?.code]).toEqual([404, 'TEMPLATE_NOT_FOUND']);
    const again = await call(alice.key, 'DELETE', `/api/templates/${TAR_NAME}`);
    expect([again.status, again.json.error?.code]).toEqual([404, 'TEMPLATE_NOT_FOUND']);
  }, 60_000);
});
