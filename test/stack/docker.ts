import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs the docker CLI and returns stdout; throws with stderr on a nonzero exit. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Like docker(), but never throws: for probes whose failure is the expected answer. */
export async function dockerStatus(...args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await docker(...args) };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
  }
}

export async function inspect<T = Record<string, unknown>>(ref: string): Promise<T> {
  return (JSON.parse(await docker('inspect', ref)) as T[])[0] as T;
}

/** A node one-liner for containers without a shell: exits 0 when host:port accepts a TCP connection within 2 s. */
export const tcpProbe = (host: string, port: number) =>
  `const s=require('net').connect(${port},'${host}',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`;
