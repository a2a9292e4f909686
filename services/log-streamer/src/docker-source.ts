import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { WORKLOAD_LABELS } from '@berth/contracts';
import { type ContainerInfo, type ContainerSource, type LogsStream } from './container-source.js';
import { dockerAnswers } from '@berth/service-kit';

const hostFilter = (hostId: string) => [`${WORKLOAD_LABELS.managed}=true`, `${WORKLOAD_LABELS.host}=${hostId}`];

export class DockerSource implements ContainerSource {
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  async list(hostId: string): Promise<ContainerInfo[]> {
    const all = await this.docker.listContainers({ all: true, filters: { label: hostFilter(hostId) } });
    return all
      .filter((c) => c.Labels[WORKLOAD_LABELS.id])
      .map((c) => ({ ref: c.Id, workspaceId: c.Labels[WORKLOAD_LABELS.id] ?? '', running: c.State === 'running' }));
  }

  async watchStarts(hostId: string, onStart: (c: ContainerInfo) => void, signal: AbortSignal): Promise<void> {
    const events = (await this.docker.getEvents({
      filters: { type: ['container'], event: ['start'], label: hostFilter(hostId) },
    })) as Readable;
    const abort = () => events.destroy();
    signal.addEventListener('abort', abort, { once: true });
    let pending = '';
    try {
      for await (const chunk of events) {
        pending += String(chunk);
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { id?: string; Actor?: { Attributes?: Record<string, string> } };
          const workspaceId = ev.Actor?.Attributes?.[WORKLOAD_LABELS.id];
          if (ev.id && workspaceId) onStart({ ref: ev.id, workspaceId, running: true });
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  async logs(ref: string, since: string | undefined, follow = true): Promise<LogsStream> {
    const container = this.docker.getContainer(ref);
    const info = await container.inspect();
    // Docker takes fractional unix seconds; the typings say number.
    const opts = { stdout: true, stderr: true, timestamps: true, ...(since !== undefined && { since: since as unknown as number }) };
    // Without follow, dockerode answers the stored output as one buffer.
    const stream = follow ? ((await container.logs({ ...opts, follow: true })) as Readable) : Readable.from([await container.logs({ ...opts, follow: false })]);
    return { stream, tty: info.Config.Tty };
  }

  ping(): Promise<boolean> {
    return dockerAnswers(this.docker);
  }
}
