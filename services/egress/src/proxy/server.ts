import { redactUrl, type Logger } from '@berth/service-kit';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AllowList } from './allow-list.js';

type ProxyOutcome = 'allowed' | 'refused' | 'bad_request' | 'upstream_error';

export interface ProxyOptions {
  allow: AllowList;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  onOutcome: (kind: 'http' | 'connect', outcome: ProxyOutcome) => void;
  /** Origin-form requests under /llm/ (and absolute-form ones naming this proxy itself) go here: the LLM reverse proxy. */
  llm?: { handle: (req: IncomingMessage, res: ServerResponse) => void; isSelf: (host: string, port: number) => boolean };
}

/**
 * Hop-by-hop headers (RFC 9110 7.6.1), the proxy's own credentials, and `expect` (node's server
 * already answered 100-continue to the client): never forwarded.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

export function forwardHeaders(raw: IncomingMessage['headers']): OutgoingHttpHeaders {
  const named = new Set(
    String(raw.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase()),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

/** `host:port` of a CONNECT target (`[v6]:port` for IPv6). */
function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@\s]+):(\d{1,5})$/.exec(authority);
  const port = m ? Number(m[2]) : 0;
  return m && port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
}

const bare = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/**
 * The forward proxy workspaces use for git and package registries: plain HTTP with absolute
 * URIs and CONNECT tunnels, to allow-listed hosts only. Bodies stream through untouched. One
 * log line per request names host, port, method and outcome; headers are never logged.
 */
export function createProxyServer(opts: ProxyOptions, logger: Logger): Server {
  const server = createServer((req, res) => {
    if (opts.llm && req.url?.startsWith('/llm/')) opts.llm.handle(req, res);
    else handleHttp(req, res, opts, logger);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => handleConnect(req, socket, head, opts, logger));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.requestTimeout = 0; // uploads (git push) can be long; idle sockets are bounded instead
  server.headersTimeout = opts.connectTimeoutMs;
  server.timeout = opts.idleTimeoutMs;
  return server;
}

function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(`${text}\n`);
}

function handleHttp(req: IncomingMessage, res: ServerResponse, opts: ProxyOptions, logger: Logger): void {
  const method = req.method ?? 'GET';
  let url: URL;
  try {
    url = new URL(req.url ?? '');
    if (url.protocol !== 'http:') throw new Error('not http');
  } catch {
    opts.onOutcome('http', 'bad_request');
    logger.warn({ kind: 'http', method, outcome: 'bad_request' }, 'proxy');
    refuse(res, 400, 'egress: expected an absolute http:// URL (use CONNECT for https)');
    return;
  }
  const host = bare(url.hostname);
  const port = url.port ? Number(url.port) : 80;
  if (opts.llm && url.pathname.startsWith('/llm/') && opts.llm.isSelf(host, port)) {
    // A client that sends everything through http_proxy, egress's own address included.
    req.url = `${url.pathname}${url.search}`;
    opts.llm.handle(req, res);
    return;
  }
  const log = { kind: 'http', method, host, port };
  const path = redactUrl(`${url.pathname}${url.search}`);
  if (!opts.allow.allows(host, port)) {
    opts.onOutcome('http', 'refused');
    logger.warn({ ...log, outcome: 'refused', path }, 'proxy');
    refuse(res, 403, `egress: ${host}:${port} is not on the allow-list`);
    return;
  }
  const headers = forwardHeaders(req.headers);
  headers.host = url.host;
  const upstream = httpRequest({ host, port, method, path: `${url.pathname}${url.search}`, headers, agent: false, timeout: opts.connectTimeoutMs });
  upstream.on('socket', (s: Socket) => s.once('connect', () => s.setTimeout(opts.idleTimeoutMs)));
  upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
  upstream.on('response', (up) => {
    opts.onOutcome('http', 'allowed');
    logger.debug({ ...log, outcome: 'allowed', status: up.statusCode, path }, 'proxy');
    res.writeHead(up.statusCode ?? 502, up.statusMessage, forwardHeaders(up.headers));
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (res.headersSent || res.destroyed) {
      res.destroy(); // mid-body, or the client left first: nothing to answer
      return;
    }
    opts.onOutcome('http', 'upstream_error');
    logger.warn({ ...log, outcome: 'upstream_error', err: err.code ?? err.message, path }, 'proxy');
    refuse(res, 502, 'egress: upstream unreachable');
  });
  req.on('error', () => upstream.destroy());
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

function handleConnect(req: IncomingMessage, client: Duplex, head: Buffer, opts: ProxyOptions, logger: Logger): void {
  client.on('error', () => undefined);
  const target = parseAuthority(req.url ?? '');
  if (!target) {
    opts.onOutcome('connect', 'bad_request');
    logger.warn({ kind: 'connect', method: 'CONNECT', outcome: 'bad_request' }, 'proxy');
    client.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\negress: CONNECT needs host:port\n');
    return;
  }
  const host = bare(target.host);
  const log = { kind: 'connect', method: 'CONNECT', host, port: target.port };
  if (!opts.allow.allows(host, target.port)) {
    opts.onOutcome('connect', 'refused');
    logger.warn({ ...log, outcome: 'refused' }, 'proxy');
    client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\negress: ${host}:${target.port} is not on the allow-list\n`);
    return;
  }
  const upstream = connect({ host, port: target.port });
  upstream.setTimeout(opts.connectTimeoutMs);
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    opts.onOutcome('connect', 'allowed');
    logger.debug({ ...log, outcome: 'allowed' }, 'proxy');
    upstream.setTimeout(opts.idleTimeoutMs);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (connected) {
      client.destroy();
      return;
    }
    opts.onOutcome('connect', 'upstream_error');
    logger.warn({ ...log, outcome: 'upstream_error', err: err.code ?? err.message }, 'proxy');
    client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\negress: upstream unreachable\n');
  });
  upstream.on('close', () => {
    if (connected) client.destroy();
  });
  client.on('close', () => upstream.destroy());
}
