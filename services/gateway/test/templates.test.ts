import { BerthError, type TemplateView } from '@berth/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { hostRoutedBackend } from '../src/hosts/host-backend.js';
import { HostDirectory } from '../src/hosts/host-view.js';
import { buildApp } from '../src/app.js';
import { AUTH, FakeBackend, JSON_HEADERS, TOKEN, containerView, type Handlers } from './helpers.js';
import { FakeStreams, type FakeStream } from './fake-streams.js';
import { heartbeat } from './host-beats.js';

// The gateway's side of templates: every host's image-builder is asked, answers merged per host.
const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const view = (name: string, hostId: string): TemplateView => ({
  name,
  image: `berth/template-0123456789abcdef:${name}`,
  imageId: `sha256:${hostId}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  tree: true,
});

async function templatesApp(handlers: Handlers, onOpen: (s: FakeStream) => void | Promise<void> = () => undefined, hosts = ['h1', 'h2']) {
  const streams = new FakeStreams(onOpen);
  const backend = new FakeBackend(handlers);
  const app = await buildApp({ backend, apiToken: TOKEN, streams, templates: { hosts: () => hosts, contextMaxBytes: 4096, buildTimeoutMs: 60_000 } });
  apps.push(app);
  return { app, streams, backend };
}

const events = (body: string) =>
  body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);

const DOCKERFILE = 'FROM berth/workspace:latest\nRUN true';

describe('POST /api/templates on every host', () => {
  it("streams each host's output and outcome, then done with where it was built", async () => {
    const { app, streams, backend } = await templatesApp({ templateGet: (d, opts) => view(d.name, opts!.hostId!) }, (s) => {
      s.emit({ type: 'out', stream: 'stdout', text: `Step 1/2 on ${s.hostId}\n` });
      if (s.hostId === 'h1') s.emit({ type: 'end', exitCode: 0, timedOut: false, cancelled: false, durationMs: 9 });
      else s.emit({ type: 'error', error: { code: 'TEMPLATE_BUILD_FAILED', message: 'exit 3', retryable: false } });
    });
    const res = await app.inject({ method: 'POST', url: '/api/templates', headers: JSON_HEADERS, payload: { name: 'tools', dockerfile: DOCKERFILE } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const all = events(res.body) as { type: string; hostId?: string }[];
    const { name: _name, ...onH1 } = view('tools', 'h1');
    expect(all.filter((e) => e.hostId === 'h1')).toEqual([
      { type: 'output', hostId: 'h1', data: 'Step 1/2 on h1\n' },
      { type: 'built', hostId: 'h1', template: { hostId: 'h1', ...onH1 } },
    ]);
    expect(all.filter((e) => e.hostId === 'h2')).toEqual([
      { type: 'output', hostId: 'h2', data: 'Step 1/2 on h2\n' },
      { type: 'failed', hostId: 'h2', error: { code: 'TEMPLATE_BUILD_FAILED', message: 'exit 3', retryable: false } },
    ]);
    expect(all.at(-1)).toEqual({ type: 'done', name: 'tools', built: ['h1'], failed: ['h2'] });
    expect(all).toHaveLength(5);
    expect(streams.opened.map((s) => [s.key, s.hostId, s.data])).toEqual([
      ['templateBuild', 'h1', { owner: 'default', name: 'tools', dockerfile: DOCKERFILE }],
      ['templateBuild', 'h2', { owner: 'default', name: 'tools', dockerfile: DOCKERFILE }],
    ]);
    expect(backend.callsTo('templateGet').map((c) => c.opts?.hostId)).toEqual(['h1']);
    expect(streams.opened.map((s) => s.acks)).toEqual([[1], [1]]);
  });

  it('a refusal on any host refuses the whole build with its code, and the builds that opened are cancelled', async () => {
    const { app, streams } = await templatesApp({}, (s) => {
      if (s.hostId === 'h2') throw new BerthError('TEMPLATE_BASE_NOT_ALLOWED', 'busybox: not a berth workspace image');
    });
    const res = await app.inject({ method: 'POST', url: '/api/templates', headers: JSON_HEADERS, payload: { name: 'tools', dockerfile: 'FROM busybox' } });
    expect([res.statusCode, res.json().error.code]).toEqual([400, 'TEMPLATE_BASE_NOT_ALLOWED']);
    expect(streams.opened.find((s) => s.hostId === 'h1')?.closed).toBe(true);
  });

  it('a host whose image-builder does not answer is reported failed; the others build', async () => {
    const { app } = await templatesApp({ templateGet: (d, opts) => view(d.name, opts!.hostId!) }, (s) => {
      if (s.hostId === 'h1') throw new BerthError('SERVICE_UNAVAILABLE', 'no service is answering', { retryAfterSeconds: 1 });
      s.emit({ type: 'end', exitCode: 0, timedOut: false, cancelled: false, durationMs: 9 });
    });
    const res = await app.inject({ method: 'POST', url: '/api/templates', headers: JSON_HEADERS, payload: { name: 'tools', dockerfile: DOCKERFILE } });
    expect(events(res.body)).toEqual([
      { type: 'failed', hostId: 'h1', error: { code: 'SERVICE_UNAVAILABLE', message: 'no service is answering', retryable: true } },
      expect.objectContaining({ type: 'built', hostId: 'h2' }),
      { type: 'done', name: 'tools', built: ['h2'], failed: ['h1'] },
    ]);
    // No host answering at all: a plain retryable 503, no stream.
    const none = await templatesApp({}, () => {
      throw new BerthError('SERVICE_UNAVAILABLE', 'no service is answering', { retryAfterSeconds: 1 });
    });
    const down = await none.app.inject({ method: 'POST', url: '/api/templates', headers: JSON_HEADERS, payload: { name: 'tools', dockerfile: DOCKERFILE } });
    expect([down.statusCode, down.json().error.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
  });

  it('hostile names and bodies are 400s before any host is asked; a tar over the limit is 413', async () => {
    const { app, streams } = await templatesApp({});
    for (const payload of [
      { name: '../x', dockerfile: DOCKERFILE },
      { name: 'A', dockerfile: DOCKERFILE },
      { name: 'ok' },
      { name: 'ok', dockerfile: DOCKERFILE, owner: 'eve' },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/api/templates', headers: JSON_HEADERS, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const tar = { ...AUTH, 'content-type': 'application/x-tar' };
    const big = await app.inject({ method: 'POST', url: '/api/templates?name=ok', headers: tar, payload: Buffer.alloc(8192) });
    expect([big.statusCode, big.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const noName = await app.inject({ method: 'POST', url: '/api/templates', headers: tar, payload: Buffer.alloc(1024) });
    expect(noName.statusCode).toBe(400);
    const noDockerfile = await app.inject({ method: 'POST', url: '/api/templates?name=ok', headers: tar, payload: Buffer.alloc(1024) });
    expect([noDockerfile.statusCode, noDockerfile.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(streams.opened).toEqual([]);
  });
});

describe('GET and DELETE /api/templates', () => {
  it('lists merged per name with the hosts that have each; get names its hosts; an unknown or impossible name is 404', async () => {
    const { app } = await templatesApp({
      templateList: (_d, opts) => ({ templates: opts!.hostId === 'h1' ? [view('a', 'h1'), view('b', 'h1')] : [view('b', 'h2')], limit: 20 }),
      templateGet: (d, opts) => {
        if (opts!.hostId === 'h2' || d.name !== 'a') throw new BerthError('TEMPLATE_NOT_FOUND', 'no template');
        return view(d.name, 'h1');
      },
    });
    const list = await app.inject({ method: 'GET', url: '/api/templates', headers: AUTH });
    expect(list.json()).toMatchObject({
      count: 2,
      limit: 20,
      templates: [
        { name: 'a', hosts: [{ hostId: 'h1' }] },
        { name: 'b', hosts: [{ hostId: 'h1' }, { hostId: 'h2' }] },
      ],
    });
    expect((await app.inject({ method: 'GET', url: '/api/templates/a', headers: AUTH })).json()).toMatchObject({ name: 'a', hosts: [{ hostId: 'h1' }] });
    for (const name of ['zzz', 'A.B', '-x', 'a%20b', `a${'b'.repeat(70)}`]) {
      const res = await app.inject({ method: 'GET', url: `/api/templates/${name}`, headers: AUTH });
      expect([res.statusCode, res.json().error.code], name).toEqual([404, 'TEMPLATE_NOT_FOUND']);
    }
  });

  it('deletes on every host that has it; nowhere is 404; an unreachable host beats not found', async () => {
    const { app } = await templatesApp({
      templateDelete: (d, opts) => {
        if (opts!.hostId === 'h2') throw new BerthError('TEMPLATE_NOT_FOUND', 'no template');
        if (d.name === 'gone') throw new BerthError('TEMPLATE_NOT_FOUND', 'no template');
        if (d.name === 'down') throw new BerthError('SERVICE_UNAVAILABLE', 'no answer', { retryAfterSeconds: 1 });
        return { name: d.name, removed: true };
      },
    });
    expect((await app.inject({ method: 'DELETE', url: '/api/templates/a', headers: AUTH })).json()).toEqual({ name: 'a', removed: true, hosts: ['h1'] });
    expect((await app.inject({ method: 'DELETE', url: '/api/templates/gone', headers: AUTH })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: '/api/templates/down', headers: AUTH })).statusCode).toBe(503);
  });
});

describe('a create naming a template', () => {
  it('tries the next host when the first has no such template (it is usable where it was built)', async () => {
    const hosts = new HostDirectory(3000);
    hosts.heard(heartbeat('h1', { containers: 0, warm: 2 }));
    hosts.heard(heartbeat('h2', { containers: 5 }));
    const fake = new FakeBackend({
      containerCreate: (_d, opts) => {
        if (opts?.hostId === 'h1') throw new BerthError('TEMPLATE_NOT_FOUND', 'no template tools');
        return { ...containerView('ws_h2_0123456789abcdef'), warm: false };
      },
    });
    const app = await buildApp({ backend: hostRoutedBackend(fake, { directory: hosts, policy: 'spread', fallbackHost: 'local' }), apiToken: TOKEN });
    apps.push(app);
    const res = await app.inject({ method: 'POST', url: '/api/containers', headers: JSON_HEADERS, payload: { template: 'tools' } });
    expect(res.statusCode).toBe(201);
    expect(fake.callsTo('containerCreate').map((c) => c.opts?.hostId)).toEqual(['h1', 'h2']);
  });
});

describe('the OpenAPI document', () => {
  it('has the four template operations with their ids and the build events schema', async () => {
    const { app } = await templatesApp({});
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { operationId: string }>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.paths['/api/templates']?.post?.operationId).toBe('buildTemplate');
    expect(doc.paths['/api/templates']?.get?.operationId).toBe('listTemplates');
    expect(doc.paths['/api/templates/{name}']?.get?.operationId).toBe('getTemplate');
    expect(doc.paths['/api/templates/{name}']?.delete?.operationId).toBe('deleteTemplate');
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['TemplateBuildEvent', 'TemplateInfo', 'TemplateList', 'TemplateDeleted']));
  });
});
