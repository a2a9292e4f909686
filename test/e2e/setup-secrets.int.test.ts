import { EVENTS, SetupStatusSchema } from '@berth/contracts';
import { connectNats, createLogger } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { containerConfigs, findSecret, redisEntries, streamMessages } from '../support/secret-scan.js';
import { filesContaining, startSetupFixture, type SetupFixture } from '../support/setup-fixture.js';

// Callbacks through egress and the token's whereabouts: gateway, pool-manager, repo-cache (fetching
// through egress' proxy) and egress as real processes; a callback receiver on 127.0.0.1, which egress
// may reach only because the test allows 127.0.0.1/32.
const TOKEN = `ghp_${'Secr3tTok3nNeverLeaks'.repeat(2)}`;
const CALLBACK_SECRET = 'callback-secret-0123456789-abcdef';
const ENV_SECRET = 'env-value-that-is-a-secret-42';
let f: SetupFixture;
let receiver: CallbackReceiver;

beforeAll(async () => {
  receiver = await CallbackReceiver.start(CALLBACK_SECRET);
  f = await startSetupFixture(TOKEN, {}, { withEgress: true, egressAllowCidrs: '127.0.0.1/32', egressEnv: { LOG_LEVEL: 'debug' } });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await receiver?.close();
});

const post = (id: string, body: unknown) => f.client.api('POST', `/api/containers/${id}/setup`, body);

describe('setup callbacks and secrets', () => {
  test('callbacks arrive in order with valid signatures, and the token, callback secret and env values are nowhere', async () => {
    const { id } = await f.client.claim();
    const r = await post(id, {
      repo: 'acme/app',
      branch: 'main',
      githubToken: TOKEN,
      callbackUrl: receiver.url,
      callbackSecret: CALLBACK_SECRET,
      envVars: { API_KEY: ENV_SECRET },
    });
    expect(r.status, r.text).toBe(202);
    const done = await f.client.awaitSetup(id);
    expect(done, JSON.stringify(done)).toMatchObject({ phase: 'ready' });

    const deadline = Date.now() + 30_000;
    const mine = () => receiver.received.filter((c) => c.body.includes(id));
    while (!mine().some((c) => c.body.includes('"ready"')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    const statuses = mine().map((c) => SetupStatusSchema.parse(JSON.parse(c.body)));
    expect(statuses.map((s) => s.phase)).toEqual(['queued', 'cloning', 'installing', 'starting', 'ready']);
    expect(statuses.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(mine().every((c) => c.signatureValid)).toBe(true);

    // repo-cache fetched through egress' proxy: the fake GitHub saw the token, nothing else did.
    expect(f.github.requests.some((q) => q.repo === 'acme/app' && q.authValid)).toBe(true);
    const proxied = f.stack.egress!.allOutput.split('\n').filter((l) => l.includes('"outcome":"allowed"') && l.includes(new URL(f.github.url).port));
    expect(proxied.length, 'fetches that went through egress').toBeGreaterThan(0);

    const nc = await connectNats({ url: f.stack.nats.url, name: 'secret-scan', logger: createLogger('test', 'silent') });
    const events = await streamMessages(nc, EVENTS.stream).finally(() => nc.close());
    const files = await f.client.exec(id, [
      'sh',
      '-c',
      'cat /workspace/repo/.git/config; grep -rIl -e "$1" -e "$2" -e "$3" /workspace /home/berth /tmp 2>/dev/null; env',
      'scan',
      TOKEN,
      CALLBACK_SECRET,
      ENV_SECRET,
    ]);
    const mirrorFiles = filesContaining(f.mirrors, [TOKEN, CALLBACK_SECRET]);
    const items: [string, string][] = [
      ...[f.stack.poolManager, f.stack.gateway, f.stack.logStreamer, f.stack.repoCache!, f.stack.egress!].map((p): [string, string] => [
        `${p.service} log`,
        p.allOutput,
      ]),
      ...containerConfigs(f.stack.hostId),
      ...(await redisEntries(f.stack.redis.url)),
      ...events,
      ['workspace files and env', `${files.stdout}${files.stderr}`],
      ['mirrors', mirrorFiles],
    ];
    expect(events.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, CALLBACK_SECRET, ENV_SECRET]) expect(findSecret(items, secret), secret).toEqual([]);
  }, 120_000);

  test('callback URLs pointing at loopback, private, link-local or metadata addresses are refused with 400', async () => {
    const { id } = await f.client.claim();
    for (const url of ['http://127.0.0.2:8080/hook', 'http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://192.168.1.1/']) {
      const r = await post(id, { repo: 'acme/app', branch: 'main', callbackUrl: url, callbackSecret: CALLBACK_SECRET });
      expect(r.status, `${url}: ${r.text}`).toBe(400);
      expect(r.json()).toMatchObject({ error: { code: 'CALLBACK_URL_REFUSED' } });
    }
    // Nothing was started for a refused setup.
    expect((await f.client.api('GET', `/api/containers/${id}/setup`)).status).toBe(404);
  }, 60_000);
});
