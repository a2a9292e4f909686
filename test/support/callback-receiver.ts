import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_HEADERS } from '@berth/contracts';

export interface ReceivedCallback {
  body: string;
  headers: IncomingMessage['headers'];
  /** The signature checked against the secret as docs/callbacks.md says a receiver must. */
  signatureValid: boolean;
}

/** A callback receiver on 127.0.0.1 that verifies every delivery's signature with `secret`. */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];

  private constructor(private readonly server: Server) {}

  static async start(secret: string): Promise<CallbackReceiver> {
    const server = createServer();
    const self = new CallbackReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        self.received.push({ body, headers: req.headers, signatureValid: verify(secret, body, req.headers) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function verify(secret: string, body: string, headers: IncomingMessage['headers']): boolean {
  const timestamp = String(headers[CALLBACK_HEADERS.timestamp] ?? '');
  const signature = Buffer.from(String(headers[CALLBACK_HEADERS.signature] ?? ''));
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}
