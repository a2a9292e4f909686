import { randomBytes } from 'node:crypto';
import { IMAGE_TREE_LABELS, imageTreeVolumeName, mainImageTag } from '@berth/contracts';
import { connectNats, createLogger, drainNats, type NatsConnection } from '@berth/service-kit';
import { freePort, ServiceProcess, type ServerProcess } from '@berth/service-kit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  buildsCounted,
  cleanHost,
  copyContainers,
  docker,
  IMAGE,
  inspectImage,
  makeWorkspace,
  newHostId,
  newRepo,
  newSha,
  publishBuild,
  runOnce,
  startAuthNats,
  waitFor,
} from './helpers.js';

// image-builder as a real process, as its own NATS user of the generated config, against real Docker.
const hostId = newHostId();
const tags: string[] = [];
let nats: ServerProcess;
let natsUrl: string;
let passwords: Record<string, string>;
let nc: NatsConnection;
let builder: ServiceProcess;
let metricsPort: number;

const env = () => ({
  NATS_URL: natsUrl,
  NATS_USER: 'image-builder',
  NATS_PASSWORD: passwords['image-builder'] ?? '',
  BERTH_HOST_ID: hostId,
  LOG_LEVEL: 'info',
  IMAGE_BUILDER_HEALTH_PORT: String(metricsPort),
  BUILD_ACK_WAIT_MS: '3000',
  BUILD_RETRY_DELAY_MS: '200',
});

function startBuilder(): void {
  builder = new ServiceProcess('image-builder', env());
  builder.start();
}

const tagOf = (repo: string) => {
  const tag = mainImageTag(repo);
  if (!tag) throw new Error(`no tag for ${repo}`);
  tags.push(tag);
  return tag;
};

/** Waits until `tag` carries `sha`; returns its inspect. */
/** The image once `tag` names it at `sha`, polled often enough to see the tag's very first moment. */
const builtAt = (tag: string, sha: string, timeoutMs = 60_000) =>
  waitFor(
    `${tag} at ${sha}`,
    async () => {
      const i = await inspectImage(tag);
      return i?.Config.Labels?.['berth.sha'] === sha && i;
    },
    timeoutMs,
    10,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; image-builder: ${builder.output.slice(-3000)}`);
  });

/**
 * Lists /workspace of a container made from `image` with a fresh, empty named volume (Docker copies
 * the image's /workspace in): created beforehand, or by Docker at container creation as pool-manager does.
 */
async function filesFromFreshVolume(image: string, how: 'precreated' | 'as-pool-manager' = 'precreated'): Promise<string> {
  const volume = `berth-it-${randomBytes(6).toString('hex')}`;
  const labels = { 'berth.host': hostId };
  if (how === 'precreated') await docker.createVolume({ Name: volume, Labels: labels });
  const script = 'find . -path ./node_modules -prune -o -type f -print | sort; cat README.md; stat -c %u:%g package.json';
  return how === 'precreated' ? runOnce(image, script, volume) : runOnce(image, script, volume, labels);
}

/** Enough data that the copy takes a while. */
const BIG_TREE =
  'mkdir -p big && for i in $(seq 1 40); do head -c 10000000 /dev/urandom > big/f$i; done && echo "# big" > README.md && echo "{}" > package.json';

beforeAll(async () => {
  ({ server: nats, url: natsUrl, passwords } = await startAuthNats());
  nc = await connectNats({
    url: natsUrl,
    name: 'test-pool-manager',
    user: 'pool-manager',
    password: passwords['pool-manager'] ?? '',
    logger: createLogger('test', 'warn'),
  });
  metricsPort = await freePort();
  startBuilder();
});

afterAll(async () => {
  await builder?.kill('SIGTERM');
  await cleanHost(hostId, tags);
  if (nc) await drainNats(nc);
  await nats?.dispose();
});

describe('image-builder', () => {
  const repo = newRepo();
  const tag = tagOf(repo);
  const sha1 = newSha();
  let firstImageId = '';
  /** A workspace made from a main image: it carries the image's labels, copy-container cleanup must spare it. */
  let fromMainImage = '';

  test('commits a set-up workspace as berth/<owner>-<repo>:main, and a fresh volume from it holds the checkout', async () => {
    const ws = await makeWorkspace(
      hostId,
      'mkdir -p src node_modules/dep && echo "# v1" > README.md && echo "{}" > package.json && echo a > src/a.ts && echo old > src/gone.ts && echo m > node_modules/dep/index.js',
    );
    await publishBuild(nc, { id: ws.id, repo, sha: sha1, hostId }, hostId);
    const image = await builtAt(tag, sha1);
    // The tree is made before the tag: a workspace made as soon as the tag appears layers over it.
    expect((await docker.getVolume(imageTreeVolumeName(image.Id)).inspect()).Labels).toMatchObject({ [IMAGE_TREE_LABELS.image]: image.Id });
    firstImageId = image.Id;
    const base = await docker.getImage(IMAGE).inspect();
    expect(image.Config.Labels).toMatchObject({
      'berth.main-image': 'true',
      'berth.repo': repo,
      'berth.sha': sha1,
      'berth.base-image': IMAGE,
      'berth.builder': hostId,
      'berth.build': '',
    });
    // The copy container's command does not leak into the image.
    expect(image.Config.Entrypoint).toEqual(base.Config.Entrypoint);
    expect(image.Config.Cmd).toEqual(base.Config.Cmd);
    for (const how of ['precreated', 'as-pool-manager'] as const) {
      const listing = await filesFromFreshVolume(tag, how);
      expect(listing.split(/\r?\n/).filter(Boolean), how).toEqual(['./README.md', './package.json', './src/a.ts', './src/gone.ts', '# v1', '1000:1000']);
    }
    expect(await copyContainers(hostId)).toEqual([]);
  });

  test('a second request at the same commit does not rebuild', async () => {
    const before = await buildsCounted(metricsPort, 'unchanged');
    const ws = await makeWorkspace(hostId, 'echo other > README.md');
    await publishBuild(nc, { id: ws.id, repo, sha: sha1, hostId }, hostId);
    await waitFor('an unchanged outcome', async () => (await buildsCounted(metricsPort, 'unchanged')) > before, 30_000);
    expect((await inspectImage(tag))?.Id).toBe(firstImageId);
  });

  test('a newer commit from a workspace made from the main image replaces it, and the old image is collected', async () => {
    // The workspace starts from the main image (Docker copies its /workspace into the new volume), then moves on.
    const ws = await makeWorkspace(hostId, 'rm src/gone.ts && echo "# v2" > README.md && echo b > src/b.ts', tag);
    const sha2 = newSha();
    await publishBuild(nc, { id: ws.id, repo, sha: sha2, hostId }, hostId);
    const image = await builtAt(tag, sha2);
    expect(image.Id).not.toBe(firstImageId);
    // Built on the base image again, not stacked on the old main image.
    expect(image.Config.Labels?.['berth.base-image']).toBe(IMAGE);
    const listing = await filesFromFreshVolume(tag);
    expect(listing.split(/\r?\n/).filter(Boolean)).toEqual(['./README.md', './package.json', './src/a.ts', './src/b.ts', '# v2', '1000:1000']);
    // The old image is still used by the workspace made from it: removing that lets the next collection take it.
    await docker.getContainer(ws.ref).remove({ force: true });
    const ws2 = await makeWorkspace(hostId, 'echo "# v3" > README.md', tag);
    fromMainImage = ws2.ref;
    const sha3 = newSha();
    await publishBuild(nc, { id: ws2.id, repo, sha: sha3, hostId }, hostId);
    await builtAt(tag, sha3);
    await waitFor('the first image removed', async () => (await inspectImage(firstImageId)) === undefined, 30_000);
    expect(await copyContainers(hostId)).toEqual([]);
  });

  test('requests for a missing workspace, a missing volume or garbage are dropped without crashing', async () => {
    const gone = await buildsCounted(metricsPort, 'workspace-gone');
    const invalid = await buildsCounted(metricsPort, 'invalid');
    const repo2 = newRepo();
    const tag2 = tagOf(repo2);
    await publishBuild(nc, { id: 'ws_0000000000000000', repo: repo2, sha: newSha(), hostId }, hostId);
    // A workspace container whose volume label names a volume that does not exist.
    const id = `ws_${randomBytes(8).toString('hex')}`;
    await docker.createContainer({
      Image: IMAGE,
      Labels: { 'berth.managed': 'true', 'berth.host': hostId, 'berth.id': id, 'berth.image': IMAGE, 'berth.volume': `berth-${id}` },
    });
    await publishBuild(nc, { id, repo: repo2, sha: newSha(), hostId }, hostId);
    await publishBuild(nc, { id: 'nonsense', repo: '../../etc', sha: 'x', hostId }, hostId);
    await waitFor('two workspace-gone outcomes', async () => (await buildsCounted(metricsPort, 'workspace-gone')) >= gone + 2, 30_000);
    await waitFor('one invalid outcome', async () => (await buildsCounted(metricsPort, 'invalid')) >= invalid + 1, 30_000);
    expect(builder.running).toBe(true);
    expect(await inspectImage(tag2)).toBeUndefined();
    // Docker did not make the missing volume on the way.
    expect(
      await docker
        .getVolume(`berth-${id}`)
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
  });

  test('killed mid-build and restarted, it leaves no copy container and finishes the build', async () => {
    const repo3 = newRepo();
    const tag3 = tagOf(repo3);
    const sha = newSha();
    const ws = await makeWorkspace(hostId, BIG_TREE);
    await publishBuild(nc, { id: ws.id, repo: repo3, sha, hostId }, hostId);
    const [left] = await waitFor(
      'a copy container',
      async () => {
        const c = await copyContainers(hostId);
        return c.length > 0 && c;
      },
      30_000,
      20,
    );
    await builder.kill('SIGKILL');
    expect(await inspectImage(tag3)).toBeUndefined();
    expect(await copyContainers(hostId)).toEqual([left]);
    startBuilder();
    await waitFor('the copy container removed', async () => (await copyContainers(hostId)).length === 0 || undefined, 30_000);
    expect((await docker.getContainer(fromMainImage).inspect()).State.Running).toBe(true);
    // Redelivered after the ack wait, and built this time.
    await builtAt(tag3, sha, 90_000);
    await waitFor('the new copy container removed', async () => (await copyContainers(hostId)).length === 0, 30_000);
    const listing = await filesFromFreshVolume(tag3);
    expect(listing).toContain('# big');
  }, 150_000);

  test('stopped gracefully mid-build, it removes its copy container itself and the build runs after a restart', async () => {
    const repo4 = newRepo();
    const tag4 = tagOf(repo4);
    const sha = newSha();
    const ws = await makeWorkspace(hostId, BIG_TREE);
    await publishBuild(nc, { id: ws.id, repo: repo4, sha, hostId }, hostId);
    await waitFor('a copy container', async () => (await copyContainers(hostId)).length > 0, 30_000, 20);
    const stopping = Date.now();
    await builder.kill('SIGTERM');
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expect(builder.output).toContain('image-builder stopped');
    expect(await copyContainers(hostId)).toEqual([]);
    expect(await inspectImage(tag4)).toBeUndefined();
    startBuilder();
    await builtAt(tag4, sha, 90_000);
  }, 150_000);
});
