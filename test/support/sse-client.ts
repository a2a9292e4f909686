import { request, type ClientRequest } from 'node:http';

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseConnection {
  /** Resolves when the server ends the stream or the connection drops. */
  closed: Promise<void>;
  /** Drops the connection abruptly (as a network failure would). */
  destroy(): void;
  status: Promise<number>;
}

/** A minimal EventSource over node:http: calls `onMessage` for each event as it is parsed. */
export function openSse(url: string, headers: Record<string, string>, onMessage: (m: SseMessage) => void): SseConnection {
  let req: ClientRequest | undefined;
  let setStatus: (s: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => {
    setStatus = resolve;
  });
  const closed = new Promise<void>((resolve) => {
    req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      setStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const m: SseMessage = { id: undefined, event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 2);
            if (field === 'id') m.id = value;
            else if (field === 'event') m.event = value;
            else if (field === 'data') m.data = value;
          }
          if (block.split('\n').some((l) => !l.startsWith(':'))) onMessage(m);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', () => {
      setStatus(0);
      resolve();
    });
    req.end();
  });
  return { closed, status, destroy: () => req?.destroy() };
}
