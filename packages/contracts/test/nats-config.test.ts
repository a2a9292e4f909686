import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildNatsConfigFiles } from '../scripts/nats-config.js';
import { BUILDS, EVENTS, STREAMS, SUBJECTS, natsPasswordVar, natsPermissions, natsServices } from '../src/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const committedDir = join(pkgDir, '..', '..', 'docker', 'nats');
const files = buildNatsConfigFiles();

describe('natsPermissions', () => {
  it('gives a user to exactly the services the catalogue names', () => {
    expect(natsServices()).toEqual(['gateway', 'pool-manager', 'image-builder', 'repo-cache', 'egress']);
  });

  it('lets callers publish and servers subscribe to each request subject, and nobody else', () => {
    for (const entry of Object.values(SUBJECTS)) {
      for (const service of natsServices()) {
        const p = natsPermissions(service);
        expect(p.publish.includes(entry.subject), `${service} publish ${entry.subject}`).toBe(entry.calledBy.includes(service));
        expect(p.subscribe.includes(entry.subject), `${service} subscribe ${entry.subject}`).toBe(entry.servedBy === service);
      }
    }
  });

  it('keeps replies per service and the JetStream API to the EVENTS stream of its manager', () => {
    expect(natsPermissions('gateway')).toEqual({
      publish: [...Object.values(SUBJECTS).filter((e) => e.calledBy.includes('gateway')).map((e) => e.subject), STREAMS.control.pattern],
      subscribe: ['_INBOX.gateway.>'],
      allowResponses: false,
    });
    const pm = natsPermissions('pool-manager');
    expect(pm.allowResponses).toBe(true);
    // Stream output goes to the inbox of the service that opened the stream, and nowhere else.
    expect(pm.publish).toEqual([SUBJECTS.repoSync.subject, SUBJECTS.callbackRegister.subject, EVENTS.container.pattern, EVENTS.setup.pattern, BUILDS.pattern, '$JS.API.INFO', '$JS.API.STREAM.INFO.EVENTS', '$JS.API.STREAM.CREATE.EVENTS', '_INBOX.gateway.>']);
    expect(pm.subscribe).toContain(STREAMS.control.pattern);
    expect(pm.subscribe).toContain('_INBOX.pool-manager.>');
    // image-builder manages BUILDS and consumes it; nobody else touches its API or acks.
    expect(natsPermissions('image-builder')).toEqual({
      publish: [SUBJECTS.repoSync.subject, '$JS.API.INFO', '$JS.API.STREAM.INFO.BUILDS', '$JS.API.STREAM.CREATE.BUILDS',
        '$JS.API.CONSUMER.CREATE.BUILDS.>', '$JS.API.CONSUMER.DURABLE.CREATE.BUILDS.*', '$JS.API.CONSUMER.INFO.BUILDS.*',
        '$JS.API.CONSUMER.MSG.NEXT.BUILDS.*', '$JS.ACK.BUILDS.>'],
      subscribe: ['_INBOX.image-builder.>'],
      allowResponses: false,
    });
    for (const s of natsServices().filter((x) => x !== 'image-builder')) {
      expect(natsPermissions(s).publish.filter((x) => x.includes('BUILDS')), s).toEqual([]);
    }
    for (const s of natsServices()) {
      const all = [...natsPermissions(s).publish, ...natsPermissions(s).subscribe];
      expect(all.filter((x) => x === '>' || x === '_INBOX.>' || x === '$JS.API.>' || x === 'berth.>')).toEqual([]);
    }
  });
});

describe('docker/nats config', () => {
  it('names every user with its password variable', () => {
    const conf = files.get('nats-server.conf') ?? '';
    for (const s of natsServices()) expect(conf).toContain(`user: "${s}"\n      password: $${natsPasswordVar(s)}\n`);
  });

  it.each([...files.keys()])('committed %s is up to date (run `pnpm nats-config`)', (name) => {
    expect(readFileSync(join(committedDir, name), 'utf8')).toBe(files.get(name));
  });

  const tmp = mkdtempSync(join(tmpdir(), 'berth-nats-conf-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('write-nats-config.ts writes the files and --check catches drift', async () => {
    const run = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/write-nats-config.ts', ...args], { cwd: pkgDir });
    await run(tmp);
    await expect(run(tmp, '--check')).resolves.toBeDefined();
    writeFileSync(join(tmp, 'authorization.conf'), 'authorization {}\n');
    await expect(run(tmp, '--check')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('out of date: authorization.conf') });
  }, 30_000);
});
