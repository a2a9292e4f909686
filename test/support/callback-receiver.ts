import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_HEADERS, WEBHOOK_SECRET_PREFIX } from '@berth/contracts';
import { Webhook } from 'standardwebhooks';

/** accepted: verified and new; duplicate: verified, id already seen (a resend or a replay); invalid: refused. */
export type CallbackOutcome = 'accepted' | 'duplicate' | 'invalid';

export interface ReceivedCallback {
  body: string;
  headers: IncomingMessage['headers'];
  /** The signature verified with the `standardwebhooks` package, as docs/callbacks.md tells receivers to. */
  signatureValid: boolean;
  outcome: CallbackOutcome;
}

/** The receiver's key, as docs/callbacks.md shows: a `whsec_` secret as is, any other secret as its UTF-8 bytes. */
export function webhookFor(secret: string): Webhook {
  return secret.startsWith(WEBHOOK_SECRET_PREFIX) ? new Webhook(secret) : new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
}

/**
 * A callback receiver on 127.0.0.1 that does what docs/callbacks.md asks of one: verify with the
 * `standardwebhooks` package (signature and a 5-minute timestamp window), answer 401 when that
 * fails, and process each webhook-id once (a repeat is answered 200 and not processed).
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private readonly seen = new Set<string>();

  private constructor(
    private readonly server: Server,
    private readonly webhook: Webhook,
  ) {}

  static async start(secret: string): Promise<CallbackReceiver> {
    const server = createServer();
    const self = new CallbackReceiver(server, webhookFor(secret));
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const outcome = self.judge(body, req.headers);
        self.received.push({ body, headers: req.headers, signatureValid: outcome !== 'invalid', outcome });
        res.writeHead(outcome === 'invalid' ? 401 : outcome === 'accepted' ? 204 : 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  accepted(): ReceivedCallback[] {
    return this.received.filter((r) => r.outcome === 'accepted');
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private judge(body: string, headers: IncomingMessage['headers']): CallbackOutcome {
    const h = (name: string) => String(headers[name] ?? '');
    const standard = {
      [CALLBACK_HEADERS.id]: h(CALLBACK_HEADERS.id),
      [CALLBACK_HEADERS.timestamp]: h(CALLBACK_HEADERS.timestamp),
      [CALLBACK_HEADERS.signature]: h(CALLBACK_HEADERS.signature),
    };
    try {
      this.webhook.verify(body, standard);
    } catch {
      return 'invalid';
    }
    const id = standard[CALLBACK_HEADERS.id];
    if (this.seen.has(id)) return 'duplicate';
    this.seen.add(id);
    return 'accepted';
  }
}
