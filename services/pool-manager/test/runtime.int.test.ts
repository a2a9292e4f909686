import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@berth/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecondDockerd } from '../../../test/support/second-dockerd.js';
import { loadPoolManagerConfig } from '../src/config.js';
import { DockerDriver } from '../src/driver/docker-driver.js';
import { checkPoolRuntimes } from '../src/pool-runtimes.js';
import { startPoolManager } from '../src/service.js';
import { buildWorkloadSpec } from '../src/workload-spec.js';

// A pool's OCI `runtime` (for gVisor's runsc or Kata where they work; Debian's runsc does not start
// containers on this machine's kernel, see docs/operations.md): on a Docker engine of the test's
// own that registers a second name for runc, the pool's containers run under that runtime, and a
// runtime the engine lacks stops pool-manager's start with a message that names it.
const RUNTIME = 'berth-test-runc';
const IMAGE = 'berth-test/sleeper:1';
const engine = new SecondDockerd({ runtimes: { [RUNTIME]: 'runc' } });
const driver = new DockerDriver(engine.socket);
const network = `berth-rt-${randomBytes(3).toString('hex')}`;
const logger = createLogger('runtime-test', 'silent');
const config = (pools: object[]) =>
  loadPoolManagerConfig({
    DOCKER_SOCKET: engine.socket,
    BERTH_HOST_ID: `rt-${randomBytes(3).toString('hex')}`,
    WORKSPACE_NETWORK: network,
    POOLS: JSON.stringify(pools),
    NPM_CACHE_VOLUME: 'none',
    LLM_KEYS_ENABLED: 'false',
    AGENTS_ENABLED: 'false',
  });

/** A busybox image that sleeps, imported into the test engine (no registry, under a second). */
function importSleeper(): void {
  const root = mkdtempSync(join(tmpdir(), 'berth-sleeper-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    for (const applet of ['sh', 'sleep']) symlinkSync('busybox', join(root, 'bin', applet));
    execFileSync('sh', ['-c', 'tar -C "$1" -c . | docker -H "unix://$2" import -c \'CMD ["/bin/sleep", "3600"]\' - "$3"', 'sh', root, engine.socket, IMAGE], {
      stdio: 'ignore',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function createIn(pool: { name: string; runtime?: string }): Promise<{ runtime: string; running: boolean }> {
  const cfg = config([{ ...pool, image: IMAGE, memoryMb: 64 }]);
  const id = `ws_${randomBytes(8).toString('hex')}`;
  const ref = await driver.create(
    buildWorkloadSpec({ id, name: `berth-${id}`, pool: cfg.POOLS[0]!, image: IMAGE, ports: {}, volumeName: '' }, cfg, { id: cfg.BERTH_HOST_ID }),
  );
  const [info] = JSON.parse(engine.docker('inspect', ref)) as { HostConfig: { Runtime: string }; State: { Running: boolean } }[];
  return { runtime: info!.HostConfig.Runtime, running: info!.State.Running };
}

beforeAll(async () => {
  await engine.start();
  importSleeper();
  await driver.ensureNetwork(network);
}, 120_000);
afterAll(async () => {
  await engine.dispose();
}, 120_000);

describe('a pool with an OCI runtime', () => {
  it('runs its containers under that runtime; a pool without one under the engine default', async () => {
    expect(await driver.runtimes()).toContain(RUNTIME);
    expect(await createIn({ name: 'sandboxed', runtime: RUNTIME })).toEqual({ runtime: RUNTIME, running: true });
    expect(await createIn({ name: 'plain' })).toEqual({ runtime: 'runc', running: true });
  });

  it("a runtime the engine lacks fails pool-manager's start, naming the pool and the runtime", async () => {
    const pools = [{ name: 'plain' }, { name: 'gvisor', runtime: 'runsc' }];
    await expect(checkPoolRuntimes(config(pools).POOLS, driver)).rejects.toThrow(
      /pool "gvisor" names OCI runtime "runsc", which the Docker engine does not have \(it has: .*berth-test-runc/,
    );
    await expect(startPoolManager(config(pools), logger, () => undefined, driver)).rejects.toThrow(/OCI runtime "runsc"/);
    await expect(checkPoolRuntimes(config([{ name: 'sandboxed', runtime: RUNTIME }]).POOLS, driver)).resolves.toBeUndefined();
  });

  it('refuses a runtime name that is not one', () => {
    expect(() => config([{ name: 'bad', runtime: '../runc' }])).toThrow();
    expect(() => config([{ name: 'bad', runtime: '' }])).toThrow();
  });
});
