import { request } from 'node:http';

/** One call to the Docker Engine API over its unix socket; resolves with the whole body. */
function dockerCall(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: '/var/run/docker.sock',
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `docker exec` through the Engine API, as pool-manager does it: create, start attached, read to the end. */
export async function dockerApiExec(container: string, cmd: string[]): Promise<void> {
  const created = await dockerCall('POST', `/containers/${container}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const { Id } = JSON.parse(created.text) as { Id: string };
  await dockerCall('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
}
