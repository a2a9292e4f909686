import type Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { WORKSPACE_USER } from './docker-spec.js';
import { TailBuffer } from './tail-buffer.js';
import type { TaskResult, TaskSpec } from './workload-driver.js';
import { DockerDemux } from './docker-demux.js';

/** The hardening of a task container: like a workspace's, plus no network at all. */
function taskCreateOptions(spec: TaskSpec): ContainerCreateOptions {
  const memory = (spec.memoryMb ?? 1024) * 1024 * 1024;
  return {
    Image: spec.image,
    Cmd: spec.argv,
    Entrypoint: [],
    User: WORKSPACE_USER,
    Labels: spec.labels,
    WorkingDir: '/',
    Env: ['HOME=/tmp', 'GIT_TERMINAL_PROMPT=0', 'GIT_CONFIG_NOSYSTEM=1'],
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      Privileged: false,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      Mounts: spec.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      PidsLimit: 512,
      Memory: memory,
      MemorySwap: memory,
      RestartPolicy: { Name: 'no' },
      IpcMode: 'private',
    },
  };
}

/** Create, attach, start, wait (killing at the timeout), collect the tail of the output, always remove. */
export async function runDockerTask(docker: Docker, spec: TaskSpec): Promise<TaskResult> {
  const started = performance.now();
  const container = await docker.createContainer(taskCreateOptions(spec));
  const tail = new TailBuffer(spec.maxOutputBytes);
  let timedOut = false;
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const demux = new DockerDemux();
    stream.pipe(demux);
    const drained = (async () => {
      for await (const chunk of demux as AsyncIterable<{ data: Buffer }>) tail.write(chunk.data);
    })().catch(() => undefined);
    await container.start();
    const timer = setTimeout(() => {
      timedOut = true;
      void container.kill().catch(() => undefined);
    }, spec.timeoutMs);
    let exitCode: number | null;
    try {
      const waited = (await container.wait()) as { StatusCode: number };
      exitCode = timedOut ? null : waited.StatusCode;
    } finally {
      clearTimeout(timer);
    }
    // The attach stream ends with the container; do not wait forever if Docker keeps it open.
    await Promise.race([drained, new Promise((r) => setTimeout(r, 2_000))]);
    return { exitCode, timedOut, output: tail.text(), durationMs: Math.round(performance.now() - started) };
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}
