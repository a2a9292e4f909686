import WebSocket from 'ws';

/** A terminal WebSocket as a browser would open it with a ticket, collecting what the shell prints. */
export class TerminalClient {
  output = '';
  frames: unknown[] = [];
  closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.output += data.toString('utf8');
      else this.frames.push(JSON.parse(data.toString('utf8')));
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, opts: { ticket?: string; token?: string } = {}): Promise<TerminalClient> {
    const protocols = ['berth.terminal.v1', ...(opts.ticket ? [`berth.ticket.${opts.ticket}`] : [])];
    const ws = new WebSocket(url, protocols, { headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} });
    return new Promise((resolve, reject) => {
      const client = new TerminalClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Waits until the output (since `from`) matches; checked on every frame, so it times echoes exactly. */
  waitFor(re: RegExp, timeoutMs = 10_000, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.output.slice(from).match(re);
        if (!m) return;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`terminal output never matched ${re}: ${JSON.stringify(this.output.slice(-500))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    this.ws.close(1000);
  }
}
