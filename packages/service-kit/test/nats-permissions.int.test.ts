import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS, SUBJECTS, natsPasswordVar, natsServices } from '@berth/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, probeNatsPermissions, repoRoot } from '../src/testing/index.js';

// The generated users of docker/nats/authorization.conf on a real nats-server.
const passwords = Object.fromEntries(natsServices().map((s) => [s, `s${randomBytes(12).toString('hex')}`]));
let nats: ServerProcess;
let url: string;

beforeAll(async () => {
  const env = Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), passwords[s] ?? '']));
  Object.assign(process.env, env);
  const auth = readFileSync(join(repoRoot(), 'docker', 'nats', 'authorization.conf'), 'utf8');
  nats = await ServerProcess.start('nats-server', (port, dir) => {
    writeFileSync(join(dir, 'nats.conf'), `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${dir}" }\n${auth}`);
    return ['-c', join(dir, 'nats.conf')];
  });
  url = `nats://127.0.0.1:${nats.port}`;
});
afterAll(async () => { await nats?.dispose(); });

const requestSubjects = Object.values(SUBJECTS).map((e) => e.subject);
const event = EVENTS.container.subject('ws_0123456789abcdef', 'claimed');

describe('generated NATS users on a real nats-server', () => {
  it('refuses a wrong password', async () => {
    expect((await probeNatsPermissions({ url, user: 'gateway', password: 'wrong', publish: [], subscribe: [] })).connected).toBe(false);
  });

  it('gateway may call the request subjects and read its own inbox only', async () => {
    const r = await probeNatsPermissions({
      url, user: 'gateway', password: passwords.gateway ?? '',
      publish: [...requestSubjects, event, '$JS.API.STREAM.DELETE.EVENTS', 'berth.other'],
      subscribe: ['_INBOX.gateway.x.y', '_INBOX.pool-manager.x', ...requestSubjects, 'berth.evt.>'],
    });
    expect(r.connected).toBe(true);
    expect(r.refusedPublish.sort()).toEqual([event, '$JS.API.STREAM.DELETE.EVENTS', 'berth.other'].sort());
    expect(r.refusedSubscribe.sort()).toEqual(['_INBOX.pool-manager.x', ...requestSubjects, 'berth.evt.>'].sort());
  });
});
