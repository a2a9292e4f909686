import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageTreeVolumeName, WORKSPACE_IMAGE_LABEL } from '@berth/contracts';
import { createLogger, request } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImageTrees, makeImageTree } from '../../image-builder/src/image-trees.js';
import { layerVolumeNames } from '../src/driver/docker-layered-volume.js';
import { workspaceVolumeName } from '../src/driver/workload-driver.js';
import { docker } from './harness.js';
import { newRequestId, startWorld, waitForWarm, type World } from './helpers.js';

const OWNER = 'layered-owner';
const FILES = 20_000;
const suffix = randomBytes(4).toString('hex');
/** A workspace image whose /workspace holds 20,000 files (as a main image or a template would). */
const BIG = `berth/test-big-tree-${suffix}:latest`;
const pools = JSON.stringify([{ name: 'default', targetSize: 1, minSize: 1, maxCreating: 1, memoryMb: 64, pids: 64 }]);
const silent = createLogger('test', 'silent');

const mountpointOf = async (volume: string) => ((await docker.getVolume(volume).inspect()) as { Mountpoint: string }).Mountpoint;
const volumeExists = (name: string) =>
  docker
    .getVolume(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );

describe('a workspace of an image with a tree starts without copying it (layered /workspace)', () => {
  let w: World;
  let tree: string;

  beforeAll(async () => {
    execFileSync('docker', ['build', '-q', '-t', BIG, '-'], {
      input: [
        'FROM berth/workspace:latest',
        `LABEL ${WORKSPACE_IMAGE_LABEL}=true`,
        `RUN mkdir -p /workspace/many && cd /workspace/many && seq 1 ${FILES} | xargs touch && echo original > /workspace/readme`,
      ].join('\n'),
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    tree = await makeImageTree(docker, BIG, `test-${suffix}`);
    w = await startWorld({ POOLS: pools });
    await waitForWarm(w.nc, 1);
  }, 180_000);
  afterAll(async () => {
    await w?.dispose();
    await docker
      .getImage(BIG)
      .remove({ force: true })
      .catch(() => undefined);
    await collectImageTrees(docker, `test-${suffix}`, silent);
  });

  it("the tree volume holds the image's /workspace, made once per image", async () => {
    const { Id } = await docker.getImage(BIG).inspect();
    expect(tree).toBe(imageTreeVolumeName(Id));
    expect(readdirSync(join(await mountpointOf(tree), 'many'))).toHaveLength(FILES);
    expect(await makeImageTree(docker, BIG, `test-${suffix}`)).toBe(tree);
  });

  it("/workspace is an overlay on the tree: every file shows, writes land in the workspace's own layer only, nothing was copied", async () => {
    const started = performance.now();
    const ws = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER, image: BIG }, { timeoutMs: 60_000 });
    const createMs = performance.now() - started;
    const volume = workspaceVolumeName(ws.id);
    const { Options } = (await docker.getVolume(volume).inspect()) as { Options: Record<string, string> | null };
    expect(Options?.type).toBe('overlay');
    expect(Options?.o).toContain(`lowerdir=${await mountpointOf(tree)},`);
    const { upper, work } = layerVolumeNames(volume);
    const upperDir = await mountpointOf(upper);
    // Structural proof of constant time: the workspace's own layer starts empty (no copy-up).
    expect(readdirSync(upperDir)).toEqual([]);

    const run = await request(w.nc, 'containerExec', {
      id: ws.id,
      owner: OWNER,
      timeoutMs: 20_000,
      command:
        'ls /workspace/many | wc -l && cat /workspace/readme && echo changed > /workspace/readme && echo new > /workspace/added && rm /workspace/many/1 && ls /workspace/many | wc -l && id -u',
    });
    expect(run, JSON.stringify(run)).toMatchObject({ exitCode: 0, stdout: `${FILES}\noriginal\n${FILES - 1}\n1000\n` });
    // Only what the workspace changed is in its layer; the shared tree is untouched.
    expect(readdirSync(upperDir).sort()).toEqual(['added', 'many', 'readme']);
    expect(readFileSync(join(upperDir, 'readme'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(await mountpointOf(tree), 'readme'), 'utf8')).toBe('original\n');
    expect(readdirSync(join(await mountpointOf(tree), 'many'))).toHaveLength(FILES);
    console.log(`create of a ${FILES}-file workspace: ${Math.round(createMs)} ms`);

    await request(w.nc, 'containerDelete', { id: ws.id, owner: OWNER });
    for (const v of [volume, upper, work]) expect(await volumeExists(v), v).toBe(false);
  }, 90_000);

  it('an image without a tree still gets its /workspace copied into a plain volume', async () => {
    const ws = await request(w.nc, 'containerCreate', { requestId: newRequestId(), owner: OWNER }, { timeoutMs: 60_000 });
    const { Options } = (await docker.getVolume(workspaceVolumeName(ws.id)).inspect()) as { Options: Record<string, string> | null };
    expect(Options?.type).toBeUndefined();
    expect(await volumeExists(layerVolumeNames(workspaceVolumeName(ws.id)).upper)).toBe(false);
    await request(w.nc, 'containerDelete', { id: ws.id, owner: OWNER });
  }, 60_000);
});
