import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';
import { natsServerBin } from './nats-server-bin.js';

/**
 * A real server binary (nats-server, redis-server) run by a test on a loopback port, with
 * a data directory that survives restart() so persistence can be exercised.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  readonly dataDir: string;

  private constructor(
    private readonly binary: string,
    private readonly args: (port: number, dataDir: string) => string[],
    readonly port: number,
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), `berth-${basename(binary)}-`));
  }

  static async start(binary: string, args: (port: number, dataDir: string) => string[]): Promise<ServerProcess> {
    const server = new ServerProcess(binary, args, await freePort());
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const child = spawn(this.binary, this.args(this.port, this.dataDir), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${this.binary} exited with ${code}: ${stderr}`))));
    await Promise.race([waitForPort(this.port), exited]);
  }

  /** Stops it: SIGTERM (graceful) or SIGKILL (crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await gone;
    this.child = undefined;
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startNatsServer(): Promise<ServerProcess & { url: string }> {
  const s = await ServerProcess.start(natsServerBin(), (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
  return Object.assign(s, { url: `nats://127.0.0.1:${s.port}` });
}

/** `fsync: 'always'` for tests that crash Redis and count what survived; everysec is production's. */
export async function startRedisServer(opts: { appendonly?: boolean; fsync?: 'always' | 'everysec' } = {}): Promise<ServerProcess & { url: string }> {
  const s = await ServerProcess.start('redis-server', (port, dir) => [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync',
    opts.fsync ?? 'everysec',
  ]);
  return Object.assign(s, { url: `redis://127.0.0.1:${s.port}` });
}
