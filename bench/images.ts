// pnpm bench:images — a main image build (request → tagged image) for a repo-like tree, and what it
// buys: a workspace from the main image (Docker copies /workspace into its fresh volume) beside
// copying the same tree volume-to-volume with `cp -a`, in the same run.
import { randomBytes } from 'node:crypto';
import { mainImageTag } from '@berth/contracts';
import { connectNats, createLogger, drainNats } from '@berth/service-kit';
import { ServiceProcess } from '@berth/service-kit/testing';
import {
  cleanHost,
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
} from '../services/image-builder/test/helpers.js';
import { report } from './lib/report.js';
import { round, summary } from './lib/stats.js';

const FILES = Number(process.env.BENCH_IMAGE_FILES ?? 20_000);
const SAMPLES = Number(process.env.BENCH_IMAGE_SAMPLES ?? 5);
// A node_modules-like tree: many small files in nested directories, plus a few larger ones.
const TREE = `mkdir -p node_modules src && cd node_modules && i=0; while [ $i -lt ${FILES} ]; do d=p$((i / 50)); mkdir -p $d; head -c 2000 /dev/urandom > $d/f$i.js; i=$((i+1)); done; cd .. && head -c 30000000 /dev/urandom > src/blob && echo '{}' > package.json`;

const hostId = newHostId();
const repo = newRepo();
const tag = mainImageTag(repo) ?? '';
const { server, url, passwords } = await startAuthNats();
const builder = new ServiceProcess('image-builder', {
  NATS_URL: url,
  NATS_USER: 'image-builder',
  NATS_PASSWORD: passwords['image-builder'] ?? '',
  BERTH_HOST_ID: hostId,
  LOG_LEVEL: 'warn',
  IMAGE_BUILDER_HEALTH_PORT: '0',
});
builder.start();
const nc = await connectNats({ url, name: 'bench', user: 'pool-manager', password: passwords['pool-manager'] ?? '', logger: createLogger('bench', 'warn') });

const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const freshVolume = async () => {
  const name = `berth-bench-${randomBytes(6).toString('hex')}`;
  await docker.createVolume({ Name: name, Labels: { 'berth.host': hostId } });
  return name;
};

try {
  const ws = await makeWorkspace(hostId, TREE);
  const builds: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const sha = newSha();
    builds.push(
      await time(async () => {
        await publishBuild(nc, { id: ws.id, repo, sha, hostId }, hostId);
        await waitFor('the image', async () => (await inspectImage(tag))?.Config.Labels?.['berth.sha'] === sha, 300_000, 50);
      }),
    );
  }
  // A workspace from the main image: create + start with a fresh named volume, until a command in it has run.
  const fromImage: number[] = [];
  const copied: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const v1 = await freshVolume();
    fromImage.push(await time(() => runOnce(tag, 'test -f package.json', v1)));
    const v2 = await freshVolume();
    copied.push(
      await time(async () => {
        const c = await docker.createContainer({
          Image: IMAGE,
          User: '1000:1000',
          Entrypoint: ['/bin/sh', '-c'],
          Cmd: ['cp -a /src/. /workspace/ && test -f /workspace/package.json'],
          HostConfig: {
            NetworkMode: 'none',
            Mounts: [
              { Type: 'volume', Source: ws.volume, Target: '/src', ReadOnly: true },
              { Type: 'volume', Source: v2, Target: '/workspace' },
            ],
          },
        });
        await c.start();
        await c.wait();
        await c.remove();
      }),
    );
  }
  const size = (await inspectImage(tag))?.Size ?? 0;
  const b = summary(builds);
  const f = summary(fromImage);
  const c = summary(copied);
  report(
    'images',
    { image_build_ms: b.p50, main_image_workspace_ms: f.p50, volume_copy_ms: c.p50, main_image_mb: round(size / 2 ** 20, 1) },
    [
      { measure: `main image build, ${FILES} files + 30 MB (request → tagged), p50`, value: `${b.p50} ms` },
      { measure: 'workspace from the main image (create, copy-up, run), p50', value: `${f.p50} ms`, baseline: `${c.p50} ms (cp -a volume to volume)` },
      { measure: 'main image size', value: `${round(size / 2 ** 20, 1)} MiB` },
    ],
    { builds: b, fromImage: f, copied: c },
  );
} finally {
  await builder.kill('SIGTERM');
  await cleanHost(hostId, [tag]);
  await drainNats(nc);
  await server.dispose();
}
