import { Agent, request, type IncomingMessage } from 'node:http';

/**
 * A keep-alive JSON client on node:http, as an agent platform would hold one: the benchmark
 * measures berth, not the client's connection setup (fetch costs far more per request).
 */
export class JsonClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  private readonly base: URL;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.base = new URL(url);
  }

  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    return this.send(method, path, body, (res, resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
      res.on('error', reject);
    });
  }

  /** The status of an answer whose body is read and thrown away unparsed (load generators). */
  discard(method: string, path: string, body?: unknown): Promise<number> {
    return this.send(method, path, body, (res, resolve, reject) => {
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
      res.resume();
    });
  }

  /** One request with the token and a JSON body; `onResponse` settles it from the answer. */
  private send<T>(
    method: string,
    path: string,
    body: unknown,
    onResponse: (res: IncomingMessage, resolve: (v: T) => void, reject: (e: unknown) => void) => void,
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method,
          agent: this.agent,
          headers: { authorization: `Bearer ${this.token}`, ...(payload !== undefined && { 'content-type': 'application/json' }) },
        },
        (res) => onResponse(res, resolve, reject),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The JSON body of a 2xx answer; anything else throws with the status and body. */
  async ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await this.call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  }

  /** Waits until the first pool holds `n` warm containers. */
  async waitWarm(n: number, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { pools } = (await this.ok('GET', '/api/pools')) as { pools: { warm: number }[] };
      if ((pools[0]?.warm ?? 0) >= n) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`pool did not reach ${n} warm containers`);
  }

  close(): void {
    this.agent.destroy();
  }
}
