import Docker from 'dockerode';
import { isDockerStatus } from '@berth/service-kit';

/** Freezes and thaws a workload's processes (cgroup freezer); both succeed when already done. */
export interface Freezer {
  freeze(ref: string): Promise<void>;
  thaw(ref: string): Promise<void>;
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
}
