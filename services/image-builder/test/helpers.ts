import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { BUILDS, natsPasswordVar, natsServices, type ImageBuildRequest } from '@berth/contracts';
import type { NatsConnection } from '@berth/service-kit';
import { ServerProcess, natsServerBin, repoRoot } from '@berth/service-kit/testing';
import { jetstream } from '@nats-io/jetstream';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });
export const IMAGE = process.env.WORKSPACE_IMAGE ?? 'berth/workspace:latest';

export const newHostId = () => `ib-${randomBytes(4).toString('hex')}`;
const newWorkspaceId = () => `ws_${randomBytes(8).toString('hex')}`;
export const newRepo = () => `test-${randomBytes(4).toString('hex')}/app`;
export const newSha = () => randomBytes(20).toString('hex');

/** nats-server with the generated users (docker/nats/authorization.conf) and random passwords. */
export async function startAuthNats(): Promise<{ server: ServerProcess; url: string; passwords: Record<string, string> }> {
  const passwords = Object.fromEntries(natsServices().map((s) => [s, `s${randomBytes(12).toString('hex')}`]));
  Object.assign(process.env, Object.fromEntries(natsServices().map((s) => [natsPasswordVar(s), passwords[s] ?? ''])));
  const auth = readFileSync(join(repoRoot(), 'docker', 'nats', 'authorization.conf'), 'utf8');
  const server = await ServerProcess.start(natsServerBin(), (port, dir) => {
    writeFileSync(join(dir, 'nats.conf'), `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${dir}" }\n${auth}`);
    return ['-c', join(dir, 'nats.conf')];
  });
  return { server, url: `nats://127.0.0.1:${server.port}`, passwords };
}

/**
 * A workspace as pool-manager leaves it after a setup: a labelled container of `hostId` running
 * from `image` with the named volume `berth-<id>` at /workspace, filled by `script` (run as uid 1000).
 */
export async function makeWorkspace(hostId: string, script: string, image = IMAGE): Promise<{ id: string; volume: string; ref: string }> {
  const id = newWorkspaceId();
  const volume = `berth-${id}`;
  await docker.createVolume({ Name: volume, Labels: { 'berth.managed': 'true', 'berth.host': hostId, 'berth.id': id } });
  await runOnce(image, script, volume);
  const c = await docker.createContainer({
    Image: image,
    User: '1000:1000',
    Labels: { 'berth.managed': 'true', 'berth.host': hostId, 'berth.id': id, 'berth.image': image },
    HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: '/workspace' }] },
  });
  await c.start();
  return { id, volume, ref: c.id };
}

/**
 * Runs `script` as uid 1000 in `image` with `volume` at /workspace; returns its output. Throws on a
 * non-zero exit. With `newVolumeLabels`, Docker creates the volume as pool-manager has it do
 * (services/pool-manager/src/driver/docker-spec.ts: VolumeOptions with NoCopy false).
 */
export async function runOnce(image: string, script: string, volume: string, newVolumeLabels?: Record<string, string>): Promise<string> {
  const mount: Docker.MountSettings = { Type: 'volume', Source: volume, Target: '/workspace' };
  if (newVolumeLabels) mount.VolumeOptions = { NoCopy: false, Labels: newVolumeLabels, DriverConfig: { Name: 'local', Options: {} } };
  const c = await docker.createContainer({
    Image: image,
    User: '1000:1000',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [script],
    Tty: true,
    WorkingDir: '/workspace',
    HostConfig: { NetworkMode: 'none', Mounts: [mount] },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const out = String((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer);
    if (StatusCode !== 0) throw new Error(`script exited ${StatusCode}: ${out}`);
    return out;
  } finally {
    await c.remove({ force: true });
  }
}

/** Publishes a build request as pool-manager would; retries until image-builder has made the stream. */
export async function publishBuild(nc: NatsConnection, req: ImageBuildRequest | Record<string, unknown>, hostId: string): Promise<void> {
  const js = jetstream(nc);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await js.publish(BUILDS.subject(hostId), JSON.stringify(req), { timeout: 2_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function inspectImage(ref: string): Promise<Docker.ImageInspectInfo | undefined> {
  return docker
    .getImage(ref)
    .inspect()
    .catch(() => undefined);
}

/** This host's copy containers (what a crash can leave behind). */
export async function copyContainers(hostId: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`berth.builder=${hostId}`, 'berth.build'] } });
  return list.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).filter((n) => n.startsWith('berth-build-'));
}

export { waitFor } from '@berth/service-kit/testing';

/** The value of `berth_image_builds_total{outcome}` on image-builder's /metrics. */
export async function buildsCounted(port: number, outcome: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('berth_image_builds_total{') && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Removes everything a test made for `hostId`: containers (workspaces, copies), volumes, images it built. */
export async function cleanHost(hostId: string, tags: string[]): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`berth.host=${hostId}`] } });
  const copies = await docker.listContainers({ all: true, filters: { label: [`berth.builder=${hostId}`] } });
  await Promise.all(
    [...containers, ...copies].map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  for (const tag of tags)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
  const images = await docker.listImages({ all: true, filters: { label: [`berth.builder=${hostId}`] } });
  for (const i of images)
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch(() => undefined);
  const { Volumes } = await docker.listVolumes({ filters: { label: [`berth.host=${hostId}`] } });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
}
