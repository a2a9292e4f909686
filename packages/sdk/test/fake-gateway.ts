import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: Seen, res: ServerResponse) => void;

/** A tiny HTTP server on loopback that answers with whatever the test says, and records requests. */
export class FakeGateway {
  readonly seen: Seen[] = [];
  handler: Handler = (_req, res) => res.writeHead(500).end();
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.seen.push(seen);
        this.handler(seen, res);
      });
    });
  }

  static async start(): Promise<FakeGateway> {
    const fake = new FakeGateway();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers each request with the next of `replies` (the last one repeats). */
  replies(...replies: [number, unknown, Record<string, string>?][]): void {
    let i = 0;
    this.handler = (_req, res) => {
      const [status, body, headers] = replies[Math.min(i++, replies.length - 1)]!;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export const VIEW = {
  id: 'ws_0123456789abcdef',
  name: 'demo',
  pool: 'default',
  image: 'berth/workspace:latest',
  state: 'claimed',
  hostPort: 13000,
  ports: { '3000': 13000 },
  createdAt: '2025-01-01T00:00:00.000Z',
  claimedAt: '2025-01-01T00:00:01.000Z',
  lastActiveAt: null,
  volumeName: null,
} as const;

export const apiError = (code: string, retryable: boolean, extra: Record<string, unknown> = {}) => ({
  error: { code, message: `${code.toLowerCase()} happened`, retryable, ...extra },
});
