import { Agent, request as httpRequest, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError } from '@berth/contracts';

/** Where a preview goes: always a published host port berth resolved, never an address a caller named. */
export interface Upstream {
  host: string;
  port: number;
}

/** Keep-alive connections to published ports: a preview request costs no TCP handshake. */
const agent = new Agent({ keepAlive: true, maxFreeSockets: 16, timeout: 60_000 });

function unreachable(err: unknown): BerthError {
  return new BerthError('PREVIEW_UPSTREAM_UNREACHABLE', 'nothing answers on this port of the workspace (is the server listening?)', { cause: err });
}

/**
 * One HTTP request to the workspace; resolves with its response as soon as the headers arrive
 * (the body is then piped by the caller, never buffered). The request body is piped from `body`.
 * Fails with PREVIEW_UPSTREAM_UNREACHABLE when nothing accepts the connection.
 */
export function forwardHttp(body: IncomingMessage, to: Upstream, method: string, path: string, headers: OutgoingHttpHeaders): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const up = httpRequest({ host: to.host, port: to.port, method, path, headers, agent, setHost: false });
    up.once('response', resolve);
    up.once('error', (err) => reject(unreachable(err)));
    // A caller that goes away takes the upstream request with it.
    body.once('close', () => {
      if (!body.complete) up.destroy();
    });
    body.pipe(up);
  });
}

/**
 * A WebSocket (or any Upgrade) to the workspace, spliced byte for byte with the caller's socket
 * once the workspace answers 101; any other answer is relayed as a plain response and the socket
 * ends. `writeHead` turns the workspace's 101 headers into the caller's (sanitised).
 */
export function forwardUpgrade(
  client: Duplex,
  clientHead: Buffer,
  to: Upstream,
  path: string,
  headers: OutgoingHttpHeaders,
  writeHead: (res: IncomingMessage) => OutgoingHttpHeaders,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // No agent: an upgraded socket is never returned to a pool.
    const up = httpRequest({ host: to.host, port: to.port, method: 'GET', path, headers, setHost: false });
    up.once('error', (err) => reject(unreachable(err)));
    up.once('upgrade', (res, upSocket, upHead) => {
      client.write(statusBlock(101, res.statusMessage, writeHead(res)));
      if (upHead.length > 0) client.write(upHead);
      if (clientHead.length > 0) upSocket.write(clientHead);
      upSocket.setNoDelay(true);
      upSocket.pipe(client).pipe(upSocket);
      const end = () => {
        upSocket.destroy();
        client.destroy();
      };
      upSocket.once('error', end).once('close', end);
      client.once('error', end).once('close', end);
      resolve();
    });
    up.once('response', (res) => {
      client.write(statusBlock(res.statusCode ?? 502, res.statusMessage, { ...writeHead(res), connection: 'close' }));
      res.pipe(client);
      resolve();
    });
    client.once('close', () => up.destroy());
    up.end();
  });
}

function statusBlock(status: number, message: string | undefined, headers: OutgoingHttpHeaders): string {
  const lines = [`HTTP/1.1 ${status} ${safeReason(message) ?? STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of [value].flat()) lines.push(`${name}: ${String(v).replace(/[\r\n]/g, '')}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A reason phrase from the workspace, only if it is plain text (no CR/LF to split the response). */
function safeReason(m: string | undefined): string | undefined {
  return m !== undefined && /^[\t -~]*$/.test(m) ? m : undefined;
}
