import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MAIN_IMAGE_LABELS, WORKSPACE_IMAGE_LABEL } from '@berth/contracts';
import { request } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersOf, docker } from './harness.js';
import { newRequestId, refused, rejection, startWorld, waitForWarm, type World } from './helpers.js';

const OWNER = 'images-owner';
const pools = JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]);
const suffix = randomBytes(4).toString('hex');
/**
 * Workspace images of this test, labelled here: the shared berth/workspace:latest tag may be rebuilt
 * meanwhile from another checkout's Dockerfile.
 */
const LABELLED = `berth/test-ws-${suffix}:latest`;
/** A repo's main image (as image-builder labels it), built from the workspace image. */
const MAIN = `berth/test-main-${suffix}:main`;
/** A workspace image whose command exits at once. */
const EXITS = `berth/test-ws-exits-${suffix}:latest`;
/** No workspace label; allowed by an exact ALLOWED_IMAGES entry. Its `sh` exits at once without a terminal. */
const LISTED = 'berth/busybox:latest';
/** Allowed, but without a POSIX shell (/bin/sh): it cannot run berth's keep-alive. */
const NO_SHELL = `berth/test-no-shell-${suffix}:latest`;

describe('only workspace images become workspaces', () => {
  let w: World;

  beforeAll(async () => {
    const build = (tag: string, lines: string[]) =>
      execFileSync('docker', ['build', '-q', '-t', tag, '-'], {
        input: ['FROM berth/workspace:latest', `LABEL ${WORKSPACE_IMAGE_LABEL}=true`, ...lines].join('\n'),
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
      });
    build(LABELLED, []);
    build(EXITS, ['CMD ["false"]']);
    build(MAIN, [`LABEL ${MAIN_IMAGE_LABELS.mainImage}=true ${MAIN_IMAGE_LABELS.repo}=acme/secret`]);
    execFileSync('sh', [
      '-c',
      `d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && tar -C $d -c . | docker import -c 'CMD ["/bin/busybox","true"]' - ${NO_SHELL} >/dev/null; rm -rf $d`,
    ]);
    w = await startWorld({ POOLS: pools, ALLOWED_IMAGES: `${LISTED},${NO_SHELL}` });
    await waitForWarm(w.nc, 1);
  });
  afterAll(async () => {
    await w?.dispose();
    for (const tag of [LABELLED, EXITS, MAIN, NO_SHELL])
      await docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
  });

  it("the workspace image's Dockerfile sets the label", () => {
    const dockerfile = readFileSync(new URL('../../../docker/images/workspace.Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^LABEL ${WORKSPACE_IMAGE_LABEL.replaceAll('.', '\\.')}=true$`, 'm'));
  });

  it("a labelled image other than the pool's is created cold and runs commands", async () => {
    const ws = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, image: LABELLED }, { timeoutMs: 30_000 });
    expect([ws.warm, ws.image, ws.state]).toEqual([false, LABELLED, 'claimed']);
    const run = await request(w.nc, 'containerExec', { id: ws.id, owner: OWNER, command: 'echo ok', timeoutMs: 10_000 });
    expect(run).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    await request(w.nc, 'containerDelete', { id: ws.id, owner: OWNER });
  });

  it("a repo's main image (labelled as a workspace image too) cannot be named: IMAGE_NOT_ALLOWED, nothing made", async () => {
    const err = await refused(w, { image: MAIN }, 'IMAGE_NOT_ALLOWED', OWNER);
    expect(err.message).toContain('hasMainImage');
  });

  it('an ALLOWED_IMAGES entry whose own command exits at once (busybox sh) runs under the keep-alive, hardened, with a writable /workspace and /app', async () => {
    const ws = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, image: LISTED }, { timeoutMs: 30_000 });
    expect([ws.warm, ws.image, ws.state]).toEqual([false, LISTED, 'claimed']);
    const run = await request(w.nc, 'containerExec', {
      id: ws.id,
      owner: OWNER,
      command: 'id -u && echo hi > /workspace/f && cat /app/f && ! touch /etc/x 2>/dev/null',
      timeoutMs: 10_000,
    });
    expect(run, JSON.stringify(run)).toMatchObject({ exitCode: 0, stdout: '1000\nhi\n' });
    await request(w.nc, 'containerDelete', { id: ws.id, owner: OWNER });
  });

  it.each([
    ['a labelled image whose command exits', EXITS],
    ['an ALLOWED_IMAGES entry without a POSIX shell', NO_SHELL],
  ])('%s is a failed create, CONTAINER_EXITED (not retryable), leaving nothing behind', async (_, image) => {
    await waitForWarm(w.nc, 1);
    const before = new Set((await containersOf(w.hostId)).map((c) => c.Id));
    const [capacity, ports] = [await w.pm.store.capacity(), await w.pm.store.ports()];
    const requestId = newRequestId();
    const err = await rejection(request(w.nc, 'containerCreate', { requestId, owner: OWNER, image }, { timeoutMs: 30_000 }));
    expect([err.code, err.retryable]).toEqual(['CONTAINER_EXITED', false]);

    expect((await containersOf(w.hostId)).filter((c) => !before.has(c.Id))).toEqual([]);
    expect((await w.pm.store.all()).filter((r) => r.requestId === `${OWNER}:${requestId}`)).toEqual([]);
    expect(await w.pm.store.capacity()).toEqual(capacity);
    expect(await w.pm.store.ports()).toEqual(ports);
    expect((await request(w.nc, 'containerList', { owner: OWNER })).containers).toEqual([]);
    const { Volumes } = await docker.listVolumes({ filters: { label: [`berth.host=${w.hostId}`] } });
    const live = new Set((await w.pm.store.all()).map((r) => `berth-${r.id}`));
    expect((Volumes ?? []).map((v) => v.Name).filter((n) => !live.has(n))).toEqual([]);
  });
});
