import { randomBytes } from 'node:crypto';
import { ContainerEventSchema, type ContainerEvent, type CreateContainerReply } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { sleep } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from './harness.js';
import { newRequestId, rejection, startWorld, waitForWarm, type World } from './helpers.js';

const OWNER = 'idle-owner';
const TTL = 12_000;
const WARNING = 6_000;
const decoder = new TextDecoder();

/** A small HTTP server in the workspace (its dev server), started in the background. */
const SERVER = "nohup node -e \"require('http').createServer((q, r) => r.end('x'.repeat(4000))).listen(3000)\" >/dev/null 2>&1 &";

describe(`idle reaping: what counts as use (IDLE_TTL_MS=${TTL}, IDLE_WARNING_MS=${WARNING})`, () => {
  let w: World;
  const events: ContainerEvent[] = [];
  const network = `berth-idle-test-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    w = await startWorld({
      POOLS: JSON.stringify([{ name: 'default', targetSize: 5, minSize: 1, maxCreating: 3, memoryMb: 128, pids: 64 }]),
      IDLE_TTL_MS: String(TTL),
      IDLE_WARNING_MS: String(WARNING),
      IDLE_TTL_MAX_MS: '60000',
      RECONCILE_INTERVAL_MS: '3600000',
      // Its own network: the shared default may be held by another run's leftovers.
      WORKSPACE_NETWORK: network,
    });
    const sub = w.nc.subscribe('berth.evt.container.>');
    void (async () => {
      for await (const m of sub) events.push(ContainerEventSchema.parse(JSON.parse(decoder.decode(m.data))));
    })();
    await waitForWarm(w.nc, 5, 120_000);
  }, 180_000);
  afterAll(async () => {
    await w?.dispose();
    await docker
      .getNetwork(network)
      .remove()
      .catch(() => undefined);
  });

  const create = () => request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER }, { timeoutMs: 30_000 });
  const state = (c: CreateContainerReply) =>
    request(w.nc, 'containerGet', { id: c.id, owner: OWNER }).then(
      (v) => v.state,
      (err: { code?: string }) => err.code,
    );
  const eventsOf = (c: CreateContainerReply, kind: ContainerEvent['kind']) => events.filter((e) => e.id === c.id && e.kind === kind);

  it('keeps workspaces with an open terminal, a running command, network traffic or a longer timeout of their own; warns, then removes the idle one', async () => {
    const [idle, terminal, command, traffic, patched] = await Promise.all([create(), create(), create(), create(), create()]);

    // A caller's own timeout: bounded by the operator's maximum, only for the caller's workspace.
    expect((await rejection(request(w.nc, 'containerKeepalive', { id: patched.id, owner: OWNER, idleTimeoutSeconds: 120 }))).code).toBe(
      'IDLE_TIMEOUT_TOO_LONG',
    );
    expect((await rejection(request(w.nc, 'containerKeepalive', { id: patched.id, owner: 'someone-else', idleTimeoutSeconds: 60 }))).code).toBe(
      'CONTAINER_NOT_FOUND',
    );
    const set = await request(w.nc, 'containerKeepalive', { id: patched.id, owner: OWNER, idleTimeoutSeconds: 60 });
    expect(set.idleTimeoutSeconds).toBe(60);
    expect(Date.parse(set.reapAt!) - Date.now()).toBeGreaterThan(55_000);
    // A plain keepalive keeps the workspace's own timeout.
    expect((await request(w.nc, 'containerKeepalive', { id: patched.id, owner: OWNER })).idleTimeoutSeconds).toBe(60);

    // An open terminal (nobody types), and a command that runs longer than the timeout.
    const streamId = `st_${randomBytes(12).toString('hex')}`;
    const inbox = `_INBOX.idle-test.${streamId}`;
    w.nc.subscribe(inbox);
    await request(w.nc, 'terminalOpen', { id: terminal.id, owner: OWNER, streamId, inbox, window: 16, cols: 80, rows: 24 });
    const longCommand = request(
      w.nc,
      'containerExec',
      { id: command.id, owner: OWNER, command: ['sleep', '20'], timeoutMs: 30_000 },
      { timeoutMs: 40_000 },
    ).catch((err: unknown) => err);

    // A dev server that someone keeps using.
    expect((await request(w.nc, 'containerExec', { id: traffic.id, owner: OWNER, command: ['sh', '-c', SERVER], timeoutMs: 10_000 })).exitCode).toBe(0);
    let browsing = true;
    const browser = (async () => {
      while (browsing) {
        await fetch(`http://127.0.0.1:${traffic.ports['3000']!}/`)
          .then((r) => r.text())
          .catch(() => undefined);
        await sleep(250);
      }
    })();

    const idleLastActive = Date.parse((await request(w.nc, 'containerGet', { id: idle.id, owner: OWNER })).lastActiveAt!);
    try {
      // Two checks inside the warning window: the first takes the network baseline, the second warns.
      await sleep(idleLastActive + TTL - WARNING + 200 - Date.now());
      await w.pm.reconciler.run();
      const warning = await w.pm.reconciler.run();
      expect(warning?.idleWarned).toBe(1);
      expect(await state(idle)).toBe('claimed');

      await sleep(idleLastActive + TTL + 200 - Date.now());
      const reap = await w.pm.reconciler.run();
      expect(reap?.reaped).toBe(1);
    } finally {
      browsing = false;
      await browser;
    }

    expect(await state(idle)).toBe('CONTAINER_NOT_FOUND');
    for (const kept of [terminal, command, traffic, patched]) expect(await state(kept)).toBe('claimed');
    expect(await longCommand).toMatchObject({ exitCode: 0 });

    const [warned] = eventsOf(idle, 'idle-warning');
    expect(warned?.reapAt).toBeDefined();
    expect(Date.parse(warned!.reapAt!)).toBe(idleLastActive + TTL);
    expect(warned?.owner).toBe(OWNER);
    expect(eventsOf(idle, 'removed').map((e) => e.reason)).toEqual(['idle']);
    // Nothing in use was warned about.
    for (const kept of [terminal, command, traffic, patched]) expect(eventsOf(kept, 'idle-warning')).toEqual([]);
  }, 90_000);
});
