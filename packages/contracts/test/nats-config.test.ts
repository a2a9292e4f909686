import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildNatsConfigFiles } from '../scripts/nats-config.js';
import {
  BUILDS,
  CONSUMERS,
  EVENTS,
  HEARTBEATS,
  JETSTREAM_ACCESS,
  LOGS,
  STREAMS,
  SUBJECTS,
  jetStreamApiSubjects,
  natsPasswordVar,
  natsPermissions,
  natsServices,
  permissionSubject,
  type SubjectKey,
} from '../src/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const committedDir = join(pkgDir, '..', '..', 'docker', 'nats');
const files = buildNatsConfigFiles();

describe('natsPermissions', () => {
  it('gives a user to exactly the services the catalogue names', () => {
    expect(natsServices()).toEqual(['gateway', 'pool-manager', 'image-builder', 'repo-cache', 'log-streamer', 'egress']);
  });

  it('lets callers publish and servers subscribe to each request subject, and nobody else', () => {
    for (const key of Object.keys(SUBJECTS) as SubjectKey[]) {
      const entry = SUBJECTS[key];
      const subject = permissionSubject(key);
      for (const service of natsServices()) {
        const p = natsPermissions(service);
        expect(p.publish.includes(subject), `${service} publish ${subject}`).toBe(entry.calledBy.includes(service));
        expect(p.subscribe.includes(subject), `${service} subscribe ${subject}`).toBe(entry.servedBy === service);
      }
    }
  });

  it('keeps replies per service and the JetStream API to the EVENTS stream of its manager', () => {
    const gw = natsPermissions('gateway');
    expect(gw.publish.filter((x) => !x.startsWith('$JS.'))).toEqual([
      ...(Object.keys(SUBJECTS) as SubjectKey[]).filter((k) => SUBJECTS[k].calledBy.includes('gateway')).map(permissionSubject),
      STREAMS.control.pattern,
    ]);
    expect(gw.subscribe).toEqual([HEARTBEATS.pattern, '_INBOX.gateway.>']);
    expect(gw.allowResponses).toBe(false);
    const pm = natsPermissions('pool-manager');
    expect(pm.allowResponses).toBe(true);
    // Stream output goes to the inbox of the service that opened the stream, and nowhere else.
    expect(pm.publish).toEqual([
      permissionSubject('repoSync'),
      SUBJECTS.callbackRegister.subject,
      SUBJECTS.llmKeyRegister.subject,
      SUBJECTS.llmKeyRevoke.subject,
      SUBJECTS.llmKeySync.subject,
      SUBJECTS.logsAppend.subject,
      HEARTBEATS.pattern,
      EVENTS.container.pattern,
      EVENTS.setup.pattern,
      BUILDS.pattern,
      '$JS.API.INFO',
      '$JS.API.STREAM.INFO.EVENTS',
      '$JS.API.STREAM.CREATE.EVENTS',
      '$JS.API.STREAM.UPDATE.EVENTS',
      '_INBOX.gateway.>',
    ]);
    expect(pm.subscribe).toContain(STREAMS.control.pattern);
    expect(pm.subscribe).toContain('_INBOX.pool-manager.>');
    for (const s of natsServices()) {
      const all = [...natsPermissions(s).publish, ...natsPermissions(s).subscribe];
      expect(
        all.filter(
          (x) =>
            x === '>' ||
            x === '_INBOX.>' ||
            x === '$JS.API.>' ||
            x === 'berth.>' ||
            x.startsWith('$JS.API.STREAM.DELETE') ||
            x.startsWith('$JS.API.STREAM.PURGE'),
        ),
        s,
      ).toEqual([]);
    }
  });
});

describe('JetStream permissions from JETSTREAM_ACCESS', () => {
  it("log-streamer manages LOGS, publishes its lines (and setups' lines it is sent) and reads back the last one, and nothing else", () => {
    expect(natsPermissions('log-streamer')).toEqual({
      publish: [
        LOGS.pattern,
        '$JS.API.INFO',
        '$JS.API.STREAM.INFO.LOGS',
        '$JS.API.STREAM.CREATE.LOGS',
        '$JS.API.STREAM.UPDATE.LOGS',
        '$JS.API.STREAM.MSG.GET.LOGS',
      ],
      subscribe: [SUBJECTS.logsAppend.subject, '_INBOX.log-streamer.>'],
      allowResponses: true,
    });
  });

  it('gateway reads LOGS with ordered consumers and message gets, and may not manage or publish into it', () => {
    expect(jetStreamApiSubjects('gateway')).toEqual([
      '$JS.API.STREAM.INFO.LOGS',
      '$JS.API.CONSUMER.CREATE.LOGS',
      '$JS.API.CONSUMER.CREATE.LOGS.>',
      '$JS.API.CONSUMER.INFO.LOGS.*',
      '$JS.API.CONSUMER.MSG.NEXT.LOGS.*',
      '$JS.API.CONSUMER.DELETE.LOGS.*',
      '$JS.API.STREAM.MSG.GET.LOGS',
    ]);
    expect(natsPermissions('gateway').publish).not.toContain(LOGS.pattern);
  });

  it('egress may create, read and acknowledge its one durable on EVENTS only, and publish LLM usage events', () => {
    const d = CONSUMERS.egressCallbacks;
    expect(d).toMatchObject({ stream: 'EVENTS', durable: 'egress-callbacks', filter: EVENTS.setup.pattern });
    expect(natsPermissions('egress').publish).toEqual([
      EVENTS.usage.pattern,
      '$JS.API.INFO',
      '$JS.API.CONSUMER.CREATE.EVENTS.egress-callbacks',
      '$JS.API.CONSUMER.CREATE.EVENTS.egress-callbacks.>',
      '$JS.API.CONSUMER.DURABLE.CREATE.EVENTS.egress-callbacks',
      '$JS.API.CONSUMER.INFO.EVENTS.egress-callbacks',
      '$JS.API.CONSUMER.MSG.NEXT.EVENTS.egress-callbacks',
      '$JS.ACK.EVENTS.egress-callbacks.>',
    ]);
    expect(natsPermissions('egress').subscribe).toEqual([
      SUBJECTS.callbackRegister.subject,
      SUBJECTS.llmKeyRegister.subject,
      SUBJECTS.llmKeyRevoke.subject,
      SUBJECTS.llmKeySync.subject,
      SUBJECTS.llmUsage.subject,
      '_INBOX.egress.>',
    ]);
  });

  it('image-builder manages BUILDS and consumes it with one durable per host; pool-manager only publishes into it', () => {
    expect(natsPermissions('image-builder')).toEqual({
      publish: [
        permissionSubject('repoSync'),
        '$JS.API.INFO',
        '$JS.API.STREAM.INFO.BUILDS',
        '$JS.API.STREAM.CREATE.BUILDS',
        '$JS.API.STREAM.UPDATE.BUILDS',
        '$JS.API.CONSUMER.CREATE.BUILDS.*',
        '$JS.API.CONSUMER.CREATE.BUILDS.*.>',
        '$JS.API.CONSUMER.DURABLE.CREATE.BUILDS.*',
        '$JS.API.CONSUMER.INFO.BUILDS.*',
        '$JS.API.CONSUMER.MSG.NEXT.BUILDS.*',
        '$JS.ACK.BUILDS.*.>',
        // w5-templates-api: it answers template builds on streams to the gateway's inboxes.
        '_INBOX.gateway.>',
      ],
      subscribe: [
        permissionSubject('templateBuild'),
        permissionSubject('templateList'),
        permissionSubject('templateGet'),
        permissionSubject('templateDelete'),
        STREAMS.control.pattern,
        '_INBOX.image-builder.>',
      ],
      allowResponses: true,
    });
    expect(natsPermissions('pool-manager').publish.filter((x) => x.includes('BUILDS') || x.startsWith('berth.build'))).toEqual([BUILDS.pattern]);
  });

  it('gives stream API, consumer and ack subjects only to the services each entry names', () => {
    for (const a of JETSTREAM_ACCESS) {
      const named = new Set([a.manager, ...a.publishers.map((p) => p.service), ...a.orderedReaders, ...a.getters, ...a.durables.map((d) => d.service)]);
      for (const s of natsServices()) {
        const touches = natsPermissions(s).publish.some((x) => x.includes(`.${a.stream}`) || a.publishers.some((p) => p.subjects.includes(x)));
        expect(touches, `${s} on ${a.stream}`).toBe(named.has(s));
      }
      const managers = natsServices().filter((s) => jetStreamApiSubjects(s).includes(`$JS.API.STREAM.CREATE.${a.stream}`));
      expect(managers, a.stream).toEqual([a.manager]);
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
