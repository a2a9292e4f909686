import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '@berth/service-kit/testing';

/**
 * A second Docker engine on this machine, isolated from the system one by its own data root,
 * exec root, pid file, socket and default bridge, without iptables rules (port publishing then
 * goes through docker-proxy). Started with live-restore, so its containers outlive it.
 * Never `--bridge none`: a dockerd started so deletes `docker0`, the system engine's bridge.
 * Its daemon.json is its own (never /etc/docker/daemon.json): `runtimes` registers extra OCI
 * runtime names (name → binary), e.g. a second name for runc.
 */
export class SecondDockerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-dockerd-'));
  readonly socket = join(this.dir, 'docker.sock');
  readonly bridge = `bd-${randomBytes(4).toString('hex')}`;
  private proc: ChildProcess | undefined;

  constructor(
    private readonly opts: {
      runtimes?: Record<string, string>;
      /** The default bridge's address (e.g. 172.31.201.1/24); random in 172.31.200–249 by default. */
      bridgeCidr?: string;
      /** Where its user-defined networks get their subnets (daemon.json default-address-pools); Docker's default otherwise. */
      addressPool?: { base: string; size: number };
    } = {},
  ) {}

  async start(): Promise<void> {
    if (!existsSync(`/sys/class/net/${this.bridge}`)) {
      execFileSync('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      execFileSync('ip', ['addr', 'add', this.opts.bridgeCidr ?? `172.31.${200 + randomInt(50)}.1/24`, 'dev', this.bridge]);
      execFileSync('ip', ['link', 'set', this.bridge, 'up']);
    }
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    const runtimes = Object.fromEntries(Object.entries(this.opts.runtimes ?? {}).map(([name, path]) => [name, { path }]));
    writeFileSync(
      join(this.dir, 'daemon.json'),
      JSON.stringify({ runtimes, ...(this.opts.addressPool && { 'default-address-pools': [this.opts.addressPool] }) }),
    );
    this.proc = spawn(
      'dockerd',
      [
        '--config-file',
        join(this.dir, 'daemon.json'),
        '--data-root',
        join(this.dir, 'data'),
        '--exec-root',
        join(this.dir, 'exec'),
        '--pidfile',
        join(this.dir, 'dockerd.pid'),
        '-H',
        `unix://${this.socket}`,
        '--bridge',
        this.bridge,
        '--iptables=false',
        '--ip6tables=false',
        '--live-restore',
      ],
      { stdio: ['ignore', log, log] },
    );
    for (let i = 0; i < 150; i++) {
      if (this.ping()) return;
      if (this.proc.exitCode !== null) break;
      await sleep(200);
    }
    throw new Error(`second dockerd did not start:\n${this.logTail()}`);
  }

  /** The engine dies at once (a lost machine); with live-restore its containers keep running. */
  kill(): void {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }

  /** SIGTERM and wait for it to exit; with live-restore its containers keep running. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }

  docker(...args: string[]): string {
    return execFileSync('docker', ['-H', `unix://${this.socket}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  }

  ping(): boolean {
    try {
      this.docker('version', '--format', '{{.Server.Version}}');
      return true;
    } catch {
      return false;
    }
  }

  /** Copies an image of the system engine into this one. */
  loadImage(image: string): void {
    execFileSync('sh', ['-c', `docker save "$1" | docker -H "unix://$2" load -q`, 'sh', image, this.socket], { stdio: 'ignore' });
  }

  logTail(): string {
    const file = join(this.dir, 'dockerd.log');
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '';
  }

  /** Removes every container and network it has (starting it again if stopped), stops it, deletes its directories. */
  async dispose(): Promise<void> {
    if (!this.ping() && this.proc !== undefined) await this.start().catch(() => undefined);
    try {
      const ids = this.docker('ps', '-aq').split('\n').filter(Boolean);
      if (ids.length > 0) this.docker('rm', '-f', '-v', ...ids);
      this.docker('network', 'prune', '-f');
    } catch {
      /* best effort: the engine may be gone for good */
    }
    await this.stop();
    // dockerd leaves its data root bind-mounted on itself (and, after a crash, overlay and netns mounts).
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(this.dir));
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    execFileSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
  }
}
