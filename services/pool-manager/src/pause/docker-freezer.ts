import Docker from 'dockerode';
import { isDockerStatus } from '@berth/service-kit';
import { LABELS } from '../driver/workload-driver.js';

/** Freezes and thaws a workload's processes (cgroup freezer); both succeed when already done. */
export interface Freezer {
  freeze(ref: string): Promise<void>;
  thaw(ref: string): Promise<void>;
  /** berth ids of this host's frozen workloads. */
  frozen(hostId: string): Promise<Set<string>>;
}

/** `docker pause` / `unpause`: ~50 ms each here; memory stays resident (see docs/pause.md). */
export class DockerFreezer implements Freezer {
  private readonly docker: Docker;

  constructor(socketPath: string) {
    this.docker = new Docker({ socketPath });
  }

  async freeze(ref: string): Promise<void> {
    const c = this.docker.getContainer(ref);
    await c.pause().catch(async (err: unknown) => {
      if (isDockerStatus(err, 404) || !(await c.inspect()).State.Paused) throw err;
    });
  }

  async thaw(ref: string): Promise<void> {
    const c = this.docker.getContainer(ref);
    await c.unpause().catch(async (err: unknown) => {
      if (isDockerStatus(err, 404)) throw err;
      const { State } = await c.inspect();
      if (State.Paused || !State.Running) throw err;
    });
  }

  async frozen(hostId: string): Promise<Set<string>> {
    const list = await this.docker.listContainers({ all: true, filters: { status: ['paused'], label: [`${LABELS.managed}=true`, `${LABELS.host}=${hostId}`] } });
    return new Set(list.map((c) => c.Labels[LABELS.id] ?? ''));
  }
}
