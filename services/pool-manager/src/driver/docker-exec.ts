import { randomBytes } from 'node:crypto';
import { Transform, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { DockerDemux } from './docker-demux.js';
import { EXEC_MARKER_VAR, KILL_SCRIPT, type ExecProcess, type OutputChunk, type SpawnOptions } from './exec-process.js';

const asStdout = () =>
  new Transform({
    readableObjectMode: true,
    readableHighWaterMark: 4,
    transform(data: Buffer, _enc, done) {
      done(null, { stream: 'stdout', data } satisfies OutputChunk);
    },
  });

/** Starts `argv` in a container through the Docker API, marked so that kill() finds all of it. */
export async function dockerSpawn(docker: Docker, ref: string, argv: string[], opts: SpawnOptions): Promise<ExecProcess> {
  const marker = randomBytes(12).toString('hex');
  const container = docker.getContainer(ref);
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  if (opts.tty) env.push('TERM=xterm-256color');
  // The marker goes last, so a caller's variable of the same name cannot hide it.
  env.push(`${EXEC_MARKER_VAR}=${marker}`);
  const exec = await container.exec({
    Cmd: argv,
    Env: env,
    WorkingDir: opts.cwd ?? '/workspace',
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: opts.tty !== undefined,
    Tty: opts.tty !== undefined,
  });
  const socket = (await exec.start({ hijack: true, stdin: opts.tty !== undefined, Tty: opts.tty !== undefined })) as Duplex;
  if (opts.tty) await exec.resize({ w: opts.tty.cols, h: opts.tty.rows }).catch(() => undefined);
  const parser = opts.tty ? asStdout() : new DockerDemux();
  socket.pipe(parser);
  socket.on('error', (err) => parser.destroy(err));
  // A reader that stops early (the output cap) closes the attach connection: Docker finishes the
  // exec only once its output is copied somewhere, and nothing more is read.
  let cut = false;
  parser.once('close', () => {
    cut = !parser.readableEnded;
    socket.destroy();
  });
  const ended = new Promise<void>((resolve) => {
    parser.once('end', resolve);
    parser.once('close', resolve);
    parser.once('error', () => resolve());
  });

  let killing: Promise<void> | undefined;
  return {
    output: parser,
    exitCode: async () => {
      await ended;
      if (cut && killing) {
        // Cut short (output cap) and killed with SIGKILL. Docker reports the exec of a closed
        // attach connection as 126, so answer what the agent would.
        await killing.catch(() => undefined);
        return 137;
      }
      try {
        const info = await exec.inspect();
        return info.Running ? null : info.ExitCode;
      } catch {
        return null;
      }
    },
    truncated: () => ({ stdout: false, stderr: false }),
    write: (data) => {
      if (opts.tty && socket.writable) socket.write(data);
    },
    resize: async (cols, rows) => {
      await exec.resize({ w: cols, h: rows });
    },
    kill: () => {
      killing ??= (async () => {
        const killer = await container.exec({ Cmd: ['sh', '-c', KILL_SCRIPT, 'berth-kill', marker], AttachStdout: false, AttachStderr: false });
        const s = (await killer.start({ hijack: true, stdin: false })) as Duplex;
        await new Promise<void>((resolve) => {
          s.once('end', resolve);
          s.once('close', resolve);
          s.once('error', () => resolve());
          s.resume();
        });
        // Everything holding the output is dead now; if Docker still has not closed it, we do.
        const backstop = setTimeout(() => socket.destroy(), 2_000);
        await ended;
        clearTimeout(backstop);
      })();
      return killing;
    },
  };
}
