import Docker from 'dockerode';
import type { ExecResult } from '@berth/contracts';
import { CappedOutput } from './capped-output.js';
import { LABELS, type ExecOptions, type WorkloadDriver, type WorkloadInfo, type WorkloadSpec } from './workload-driver.js';
import { workloadCreateOptions } from './docker-spec.js';

const isStatus = (err: unknown, status: number) => (err as { statusCode?: number } | null)?.statusCode === status;

export class DockerDriver implements WorkloadDriver {
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  async create(spec: WorkloadSpec): Promise<string> {
    const container = await this.docker.createContainer(workloadCreateOptions(spec));
    try {
      await container.start();
    } catch (err) {
      await this.remove(container.id);
      throw err;
    }
    return container.id;
  }

  async remove(ref: string): Promise<void> {
    try {
      await this.docker.getContainer(ref).remove({ force: true, v: true });
    } catch (err) {
      // 404: already gone; 409: removal already in progress.
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
  }

  async rename(ref: string, name: string): Promise<void> {
    await this.docker.getContainer(ref).rename({ name });
  }

  async list(hostId: string): Promise<WorkloadInfo[]> {
    const all = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.host}=${hostId}`] },
    });
    return all.map((c) => ({
      id: c.Labels[LABELS.id] ?? '',
      ref: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      labels: c.Labels,
      running: c.State === 'running',
      createdAtMs: c.Created * 1000,
    }));
  }

  async exec(ref: string, argv: string[], opts: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    const seconds = (opts.timeoutMs / 1000).toFixed(3);
    // `timeout -s KILL` inside the workspace kills the command when the time is up.
    const exec = await this.docker.getContainer(ref).exec({
      Cmd: ['timeout', '-s', 'KILL', seconds, ...argv],
      AttachStdout: true,
      AttachStderr: true,
      WorkingDir: '/workspace',
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new CappedOutput(opts.maxOutputBytes);
    const stderr = new CappedOutput(opts.maxOutputBytes);
    this.docker.modem.demuxStream(stream, stdout, stderr);
    let backstop: NodeJS.Timeout | undefined;
    const ended = new Promise<boolean>((resolve) => {
      stream.once('end', () => resolve(false));
      stream.once('close', () => resolve(false));
      stream.once('error', () => resolve(false));
      backstop = setTimeout(() => resolve(true), opts.timeoutMs + 2_000);
    });
    const cutOff = await ended;
    clearTimeout(backstop);
    if (cutOff) stream.destroy();
    const info = cutOff ? undefined : await exec.inspect();
    const exitCode = info?.ExitCode ?? null;
    const durationMs = performance.now() - started;
    return {
      exitCode,
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      truncated: stdout.truncated || stderr.truncated,
      timedOut: cutOff || (exitCode === 137 && durationMs >= opts.timeoutMs),
      durationMs: Math.round(durationMs),
    };
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }

  async ensureNetwork(name: string): Promise<void> {
    const found = await this.docker.listNetworks({ filters: { name: [name] } });
    if (found.some((n) => n.Name === name)) return;
    try {
      // Not `internal`: Docker publishes no ports on internal networks. Without masquerade
      // the bridge has no NAT route out, so published ports work and egress does not.
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Labels: { [LABELS.managed]: 'true' },
        Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
      });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }
}
