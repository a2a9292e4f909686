import { execFileSync } from 'node:child_process';
import { EVENTS, SetupStatusSchema } from '@berth/contracts';
import { connectNats, createLogger } from '@berth/service-kit';
import { seedVolumeName } from '@berth/pool-manager';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { git } from '../support/git-fixtures.js';
import { streamMessages } from '../support/secret-scan.js';
import { seedKey, startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// Repository setup end to end: gateway, pool-manager, repo-cache as real processes, real Docker,
// a fake GitHub serving a private repository that needs a token.
const TOKEN = `ghp_${'T0kenForSetupTests'.repeat(2)}`;
let f: SetupFixture;

beforeAll(async () => {
  // egress without CALLBACK_ALLOW_CIDRS: a callback to 127.0.0.1 is refused like any loopback address.
  f = await startSetupFixture(TOKEN, { SETUP_INSTALL_TIMEOUT_MS: '15000', SETUP_START_TIMEOUT_MS: '30000' }, { withEgress: true });
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

const post = (id: string, body: unknown) => f.client.api('POST', `/api/containers/${id}/setup`, body);

/** Processes in the workspace other than PID 1, the ps itself and its shell. */
async function processes(id: string): Promise<string> {
  const r = await f.client.exec(id, ['ps', '-eo', 'pid,args']);
  return r.stdout;
}

describe('POST /api/containers/:id/setup', () => {
  test('a private repository is cloned with the token, installed, and its dev server answers on the host port', async () => {
    const { id, hostPort } = await f.client.claim();
    const r = await post(id, { repo: 'acme/app', branch: 'main', githubToken: TOKEN });
    expect(r.status, r.text).toBe(202);
    expect(r.json()).toMatchObject({ id, phase: 'queued', repo: 'acme/app', branch: 'main' });
    const done = await f.client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', source: 'clone' });
    expect(done.sha).toBe(await git(f.github.barePath('acme/app'), ['rev-parse', 'refs/heads/main']));
    expect(Object.keys(done.durations)).toEqual(expect.arrayContaining(['queued', 'cloning', 'installing', 'starting']));
    const res = await fetch(`http://127.0.0.1:${hostPort}/`);
    expect(await res.text()).toContain('main');
    const remote = await f.client.exec(id, ['git', '-C', '/workspace/repo', 'remote', 'get-url', 'origin']);
    expect(remote.stdout.trim()).toBe('https://github.com/acme/app.git');

    // Every status is in EVENTS, in seq order, under its own message id.
    const nc = await connectNats({ url: f.stack.nats.url, name: 'setup-test', logger: createLogger('test', 'silent') });
    try {
      const msgs = (await streamMessages(nc, EVENTS.stream)).filter(([where]) => where.includes(EVENTS.setup.subject(id)));
      const statuses = msgs.map(([, text]) => SetupStatusSchema.parse(JSON.parse(text.split('\n').slice(-1)[0]!)));
      expect(statuses.map((s) => s.phase)).toEqual(['queued', 'cloning', 'installing', 'starting', 'ready']);
      expect(statuses.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(msgs.every(([, text], i) => text.includes(`Nats-Msg-Id: ${EVENTS.setup.msgId(id, i + 1)}`))).toBe(true);
    } finally {
      await nc.close();
    }
  }, 120_000);

  test('a second setup of the same lockfile takes node_modules from the seed and skips the install', async () => {
    const volume = seedVolumeName(f.stack.hostId, 'default', 'acme/app');
    // The seed is saved in the background after the first install.
    const deadline = Date.now() + 60_000;
    while (!seedKey(volume) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(seedKey(volume)).toMatch(/^[0-9a-f]{64}$/);
    const { id, hostPort } = await f.client.claim();
    expect((await post(id, { repo: 'acme/app', branch: 'main', githubToken: TOKEN })).status).toBe(202);
    const done = await f.client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready' });
    expect(done.durations.installing).toBeUndefined();
    // The dev server requires the dependency: it answers only if node_modules is complete.
    expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toContain('main');
  }, 120_000);

  test("a named volume is the owner's node_modules cache: the checkout's node_modules, kept for the owner's next workspace", async () => {
    const name = `app-modules-${Date.now().toString(36)}`;
    const create = async () => {
      const r = await f.client.api('POST', '/api/containers', { volumeName: name });
      expect(r.status, r.text).toBe(201);
      return r.json() as { id: string; hostPort: number };
    };
    const { id, hostPort } = await create();
    expect((await post(id, { repo: 'acme/app', branch: 'main', githubToken: TOKEN })).status).toBe(202);
    const done = await f.client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready' });
    expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toContain('main');
    // The install went into the owner's volume, never into a volume under the caller's raw name.
    expect(() => execFileSync('docker', ['volume', 'inspect', name], { stdio: 'ignore' })).toThrow();
    expect((await f.client.api('DELETE', `/api/containers/${id}`)).status).toBe(200);

    const next = await create();
    expect((await f.client.exec(next.id, ['test', '-f', '/workspace/repo/node_modules/dep/package.json'])).exitCode).toBe(0);
    // The checkout itself is the workspace's own: gone with its container.
    expect((await f.client.exec(next.id, ['test', '-e', '/workspace/repo/package.json'])).exitCode).not.toBe(0);
    expect((await f.client.api('DELETE', `/api/containers/${next.id}`)).status).toBe(200);
    expect((await f.client.api('DELETE', `/api/volumes/${name}`)).status).toBe(200);
  }, 120_000);

  test('a failing install ends failed INSTALL_FAILED with the scrubbed tail of its output, and a new setup is allowed after it', async () => {
    const { id } = await f.client.claim();
    const secret = 'sup3r-s3cret-env-value';
    const r = await post(id, {
      repo: 'acme/app',
      branch: 'main',
      githubToken: TOKEN,
      envVars: { MY_SECRET: secret },
      installCommand: 'echo "first line"; echo "using $MY_SECRET"; echo "install broke" >&2; exit 7',
    });
    expect(r.status, r.text).toBe(202);
    const done = await f.client.awaitSetup(id);
    expect(done.phase).toBe('failed');
    expect(done.error).toMatchObject({ code: 'INSTALL_FAILED' });
    expect(done.error?.message).toContain('7');
    expect(done.logTail).toContain('install broke');
    expect(done.logTail).toContain('using ***');
    expect(JSON.stringify(done)).not.toContain(secret);
    // Re-setup after failed: accepted, continues the seq.
    const again = await post(id, { repo: 'acme/app', branch: 'main', githubToken: TOKEN });
    expect(again.status, again.text).toBe(202);
    expect(again.json().seq).toBe(done.seq + 1);
    expect((await f.client.awaitSetup(id)).phase).toBe('ready');
  }, 120_000);

  test('a phase that runs out of time ends failed PHASE_TIMEOUT and leaves no process behind', async () => {
    const { id } = await f.client.claim();
    const r = await post(id, { repo: 'acme/app', branch: 'main', githubToken: TOKEN, installCommand: 'echo waiting; sleep 600 & sleep 601; wait' });
    expect(r.status).toBe(202);
    // A second setup while this one runs is refused.
    const busy = await post(id, { repo: 'acme/app', branch: 'main', githubToken: TOKEN });
    expect(busy.status, busy.text).toBe(409);
    expect(busy.json()).toMatchObject({ error: { code: 'SETUP_IN_PROGRESS' } });
    const done = await f.client.awaitSetup(id);
    expect(done).toMatchObject({ phase: 'failed', error: { code: 'PHASE_TIMEOUT' } });
    expect(done.error?.message).toContain('installing');
    expect(done.logTail).toContain('waiting');
    const ps = await processes(id);
    expect(ps).not.toContain('sleep 60');
  }, 120_000);

  test('a start command that dies ends failed START_FAILED with its output (from the container log), scrubbed', async () => {
    const { id } = await f.client.claim();
    const secret = 'start-secret-value-99';
    const r = await post(id, {
      repo: 'acme/app',
      branch: 'main',
      githubToken: TOKEN,
      envVars: { S: secret },
      startCommand: 'echo "booting on $PORT"; echo "crashed with $S" >&2; exit 4',
    });
    expect(r.status).toBe(202);
    const done = await f.client.awaitSetup(id);
    expect(done).toMatchObject({ phase: 'failed', error: { code: 'START_FAILED' } });
    expect(done.error?.message).toContain('code 4');
    expect(done.logTail).toContain('booting on 3000');
    expect(done.logTail).toContain('crashed with ***');
    expect(JSON.stringify(done)).not.toContain(secret);
  }, 120_000);

  test('branch names that could mean something to a shell are refused with 400; an odd but legal one works', async () => {
    const { id, hostPort } = await f.client.claim();
    for (const branch of ['main;id', '$(id)', '`id`', 'a|b', 'a&&b', '-rf', 'a b', 'x\ny', '../main', 'a..b']) {
      const r = await post(id, { repo: 'acme/app', branch, githubToken: TOKEN });
      expect(r.status, `${branch}: ${r.text}`).toBe(400);
      expect(r.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    for (const repo of ['acme/../etc', 'acme', '-x/y', 'acme/app;id']) {
      expect((await post(id, { repo, branch: 'main' })).status, repo).toBe(400);
    }
    const odd = 'feature/odd#name+x=1,y%z!';
    await f.github.createBranch('acme/app', odd);
    expect((await post(id, { repo: 'acme/app', branch: odd, githubToken: TOKEN })).status).toBe(202);
    const done = await f.client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready', branch: odd });
    expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toContain(odd);
  }, 120_000);

  test('a callback URL on 127.0.0.1 is refused with 400 CALLBACK_URL_REFUSED when egress allows no private range', async () => {
    const { id } = await f.client.claim();
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.0.0.1/hook']) {
      const r = await post(id, {
        repo: 'acme/app',
        branch: 'main',
        githubToken: TOKEN,
        callbackUrl: url,
        callbackSecret: 'a-callback-secret-of-enough-length',
      });
      expect(r.status, `${url}: ${r.text}`).toBe(400);
      expect(r.json()).toMatchObject({ error: { code: 'CALLBACK_URL_REFUSED' } });
      expect(r.text).not.toContain('a-callback-secret-of-enough-length');
    }
    expect((await f.client.api('GET', `/api/containers/${id}/setup`)).status).toBe(404);
  });

  test('unknown containers are 404, a container without setup answers SETUP_NOT_FOUND', async () => {
    expect((await post('ws_0123456789abcdef', { repo: 'acme/app', branch: 'main' })).status).toBe(404);
    const { id } = await f.client.claim();
    const r = await f.client.api('GET', `/api/containers/${id}/setup`);
    expect(r.status).toBe(404);
    expect(r.json()).toMatchObject({ error: { code: 'SETUP_NOT_FOUND' } });
  });

  test('a workspace cannot reach the fake GitHub itself; its checkout came through repo-cache', async () => {
    const { id } = await f.client.claim();
    const port = new URL(f.github.url).port;
    const gateway = execFileSync('docker', ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'berth-workspaces'], { encoding: 'utf8' }).trim();
    for (const host of ['127.0.0.1', gateway]) {
      const r = await f.client.exec(id, ['git', 'ls-remote', `http://x:${TOKEN}@${host}:${port}/acme/app.git`], 20_000);
      expect(r.exitCode, `${host}: ${r.stdout}${r.stderr}`).not.toBe(0);
    }
    expect(f.github.requests.some((q) => q.authValid && q.endpoint === 'git-upload-pack')).toBe(true);
  }, 60_000);
});
