import { randomBytes } from 'node:crypto';
import { BerthError, imageTreeVolumeName, MAIN_IMAGE_LABELS, TEMPLATE_LABELS, WORKSPACE_IMAGE_LABEL } from '@berth/contracts';
import { createLogger, templateImageTag } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImageTrees } from '../src/image-trees.js';
import { tarOf } from '@berth/service-kit';
import { checkBuildNetwork } from '../src/templates/build-network.js';
import { TemplateBuilder } from '../src/templates/template-builder.js';
import { docker, IMAGE } from './helpers.js';

const hostId = `tpl-${randomBytes(4).toString('hex')}`;
const OWNER = `alice-${hostId}`;
const OTHER = `mallory-${hostId}`;
const logger = createLogger('test', 'silent');
const builder = new TemplateBuilder(
  docker,
  { hostId, workspaceImage: IMAGE, network: 'none', proxyUrl: '', memoryMb: 512, cpuPercent: 50, timeoutMs: 240_000 },
  logger,
);
/** A fake upstream on a network this test owns: reachable from that network, never from a build. */
const NET = `berth-test-tpl-${hostId}`;
const UPSTREAM = `berth-test-tpl-upstream-${hostId}`;
let upstreamIp = '';

async function refusal(p: Promise<unknown>): Promise<BerthError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BerthError);
  return e as BerthError;
}

/** Node's TCP connect to the upstream, exit 0 when it connects (no curl or nc in the workspace image). */
const probe = (ip: string) =>
  `node -e "require('net').connect(8080,'${ip}').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),3000)"`;

describe("templates: workspace images built from a Dockerfile, hardened as berth's own", () => {
  beforeAll(async () => {
    await docker.createNetwork({ Name: NET, Internal: true, Labels: { test: hostId } });
    const up = await docker.createContainer({
      name: UPSTREAM,
      Image: 'berth/busybox:latest',
      Cmd: ['sh', '-c', 'while true; do echo ok | nc -l -p 8080; done'],
      HostConfig: { NetworkMode: NET },
    });
    await up.start();
    upstreamIp = (await up.inspect()).NetworkSettings.Networks[NET]!.IPAddress;
  }, 60_000);
  afterAll(async () => {
    for (const owner of [OWNER, OTHER]) for (const t of await builder.list(owner).catch(() => [])) await builder.remove(owner, t.name).catch(() => undefined);
    await docker
      .getContainer(UPSTREAM)
      .remove({ force: true })
      .catch(() => undefined);
    await docker
      .getNetwork(NET)
      .remove()
      .catch(() => undefined);
    await collectImageTrees(docker, hostId, logger);
  }, 60_000);

  it("the test's upstream answers on its own network (control for the build's refusal below)", async () => {
    const c = await docker.createContainer({ Image: IMAGE, Entrypoint: ['sh', '-c', probe(upstreamIp)], HostConfig: { NetworkMode: NET } });
    try {
      await c.start();
      expect(((await c.wait()) as { StatusCode: number }).StatusCode).toBe(0);
    } finally {
      await c.remove({ force: true });
    }
  }, 60_000);

  it("refuses a build network that is not a workspaces' network (NAT or inter-container traffic), or none that exists", async () => {
    await expect(checkBuildNetwork(docker, 'none')).resolves.toBeUndefined();
    await expect(checkBuildNetwork(docker, NET)).rejects.toThrow(/TEMPLATE_BUILD_NETWORK .* has .*enable_icc.*allow-list/);
    await expect(checkBuildNetwork(docker, 'bridge')).rejects.toThrow(/enable_ip_masquerade/);
    await expect(checkBuildNetwork(docker, `${NET}-missing`)).rejects.toThrow(/does not exist/);
  });

  it('from Dockerfile text: output streamed while it builds, result hardened (uid 1000, agent entrypoint, workspace label, owner), with a tree; a build cannot reach the network', async () => {
    const seen: { text: string; at: number }[] = [];
    const dockerfile = [
      `FROM ${IMAGE}`,
      'RUN mkdir -p /workspace/tree && cd /workspace/tree && seq 1 50 | xargs touch && echo hello > /workspace/hello',
      // The build's RUN steps have no network: the upstream the control reached is out of reach here.
      `RUN ! ${probe(upstreamIp)} && echo upstream-unreachable`,
      // Its RUN steps get half a core (cgroup v1's quota file, else v2's cpu.max).
      'RUN echo "cfs-quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)"',
      'USER root',
    ].join('\n');
    const view = await builder.build(OWNER, 'node-tools', { dockerfile }, (text) => seen.push({ text, at: Date.now() }));
    const done = Date.now();
    expect(view).toMatchObject({ name: 'node-tools', image: templateImageTag(OWNER, 'node-tools'), tree: true });
    const output = seen.map((s) => s.text).join('');
    expect(output).toContain('Step 1/');
    expect(output).toContain('upstream-unreachable');
    expect(output).toContain('cfs-quota=50000');
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[0]!.at).toBeLessThan(done);

    const info = await docker.getImage(view.image).inspect();
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.Entrypoint).toEqual(['/usr/bin/tini', '--', '/opt/berth/berth-agent-entrypoint.sh']);
    expect(info.Config.Labels).toMatchObject({ [WORKSPACE_IMAGE_LABEL]: 'true', [TEMPLATE_LABELS.name]: 'node-tools', [TEMPLATE_LABELS.owner]: OWNER });
    expect(info.Config.Labels[MAIN_IMAGE_LABELS.mainImage]).not.toBe('true');
    await docker.getVolume(imageTreeVolumeName(info.Id)).inspect();
    const c = await docker.createContainer({
      Image: view.image,
      Entrypoint: ['sh', '-c', 'id -u && cat /workspace/hello && test -f /opt/berth/berth-agent.mjs && echo agent'],
      Tty: true,
    });
    try {
      await c.start();
      await c.wait();
      expect(String(await c.logs({ stdout: true }))).toMatch(/^1000\r?\nhello\r?\nagent/);
    } finally {
      await c.remove({ force: true });
    }
  }, 300_000);

  it('from a tar context: its files are copied in', async () => {
    const context = tarOf([
      { name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY --chown=1000:1000 app.txt /workspace/app.txt\n` },
      { name: 'app.txt', content: 'from the context\n' },
    ]);
    const view = await builder.build(OWNER, 'ctx', { context }, () => undefined);
    const c = await docker.createContainer({ Image: view.image, Entrypoint: ['cat', '/workspace/app.txt'], Tty: true });
    try {
      await c.start();
      await c.wait();
      expect(String(await c.logs({ stdout: true }))).toContain('from the context');
    } finally {
      await c.remove({ force: true });
    }
  }, 300_000);

  it.each([
    ['a base that is not a berth workspace image', 'FROM berth/busybox:latest', 'TEMPLATE_BASE_NOT_ALLOWED'],
    ['a base not on this host (no registry)', 'FROM node:22-slim', 'TEMPLATE_BASE_NOT_ALLOWED'],
    ['a variable in FROM', 'ARG B=berth/workspace:latest\nFROM ${B}', 'TEMPLATE_BASE_NOT_ALLOWED'],
    ['COPY --from another image', `FROM ${IMAGE}\nCOPY --from=berth/busybox:latest /bin/busybox /tmp/`, 'TEMPLATE_BASE_NOT_ALLOWED'],
    ['ADD from a URL (the engine would fetch it)', `FROM ${IMAGE}\nADD http://127.0.0.1:9/x /tmp/x`, 'TEMPLATE_INSTRUCTION_NOT_ALLOWED'],
    ['FROM with a flag', `FROM --platform=linux/arm64 ${IMAGE}`, 'TEMPLATE_INSTRUCTION_NOT_ALLOWED'],
  ])('%s is refused before any build', async (_, dockerfile, code) => {
    const before = (await docker.listImages()).length;
    const err = await refusal(builder.build(OWNER, 'refused', { dockerfile }, () => undefined));
    expect(err.code).toBe(code);
    expect((await docker.listImages()).length).toBeLessThanOrEqual(before);
  });

  it('a build running past its timeout is stopped: TEMPLATE_BUILD_TIMEOUT, nothing tagged', async () => {
    const quick = new TemplateBuilder(
      docker,
      { hostId, workspaceImage: IMAGE, network: 'none', proxyUrl: '', memoryMb: 512, cpuPercent: 50, timeoutMs: 3_000 },
      logger,
    );
    const started = Date.now();
    const err = await refusal(quick.build(OWNER, 'slow', { dockerfile: `FROM ${IMAGE}\nRUN sleep 60` }, () => undefined));
    expect(err.code).toBe('TEMPLATE_BUILD_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await refusal(builder.get(OWNER, 'slow'))).code).toBe('TEMPLATE_NOT_FOUND');
  }, 60_000);

  it('a failing RUN is TEMPLATE_BUILD_FAILED with its output; nothing tagged', async () => {
    const err = await refusal(builder.build(OWNER, 'fails', { dockerfile: `FROM ${IMAGE}\nRUN echo about-to-fail && false` }, () => undefined));
    expect(err.code).toBe('TEMPLATE_BUILD_FAILED');
    expect(err.message).toContain('about-to-fail');
    expect((await refusal(builder.get(OWNER, 'fails'))).code).toBe('TEMPLATE_NOT_FOUND');
  }, 120_000);

  it('templates are per owner: another owner neither sees, uses as a base, nor deletes them; the owner deletes', async () => {
    expect((await builder.list(OWNER)).map((t) => t.name)).toEqual(['ctx', 'node-tools']);
    expect(await builder.list(OTHER)).toEqual([]);
    expect((await refusal(builder.get(OTHER, 'node-tools'))).code).toBe('TEMPLATE_NOT_FOUND');
    expect((await refusal(builder.remove(OTHER, 'node-tools'))).code).toBe('TEMPLATE_NOT_FOUND');
    const base = templateImageTag(OWNER, 'node-tools');
    expect((await refusal(builder.build(OTHER, 'stolen', { dockerfile: `FROM ${base}` }, () => undefined))).code).toBe('TEMPLATE_BASE_NOT_ALLOWED');
    await builder.remove(OWNER, 'ctx');
    expect((await refusal(builder.get(OWNER, 'ctx'))).code).toBe('TEMPLATE_NOT_FOUND');
    expect((await builder.list(OWNER)).map((t) => t.name)).toEqual(['node-tools']);
  }, 60_000);
});
