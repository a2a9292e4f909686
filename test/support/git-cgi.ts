import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface CgiRequest {
  method: string;
  /** Path below the project root, e.g. `/acme/web.git/info/refs`. */
  pathInfo: string;
  query: string;
  contentType: string | undefined;
  gitProtocol: string | undefined;
  body: Buffer;
}

/**
 * Runs `git http-backend` as a CGI for one request and streams its answer to `res`: the CGI
 * header block (`Status:` and headers) becomes the HTTP head, the rest is piped through.
 */
export function runGitHttpBackend(projectRoot: string, req: CgiRequest, res: ServerResponse): Promise<number> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: req.method,
    PATH_INFO: req.pathInfo,
    QUERY_STRING: req.query,
    CONTENT_LENGTH: String(req.body.length),
    REMOTE_ADDR: '127.0.0.1',
    GIT_CONFIG_NOSYSTEM: '1',
    HOME: projectRoot,
  };
  if (req.contentType) env.CONTENT_TYPE = req.contentType;
  if (req.gitProtocol) env.GIT_PROTOCOL = req.gitProtocol;
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // http-backend may exit before reading all of the body (a refused or finished request): EPIPE
  // on its stdin is then expected and must not become an uncaught exception in the test process.
  child.stdin.on('error', () => undefined);
  child.stdin.end(req.body);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });

  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let status = 0;
    const onData = (chunk: Buffer) => {
      if (status !== 0) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = findHeaderEnd(head);
      if (end === undefined) return;
      const { code, headers } = parseCgiHead(head.subarray(0, end.at).toString('latin1'));
      status = code;
      res.writeHead(code, headers);
      const rest = head.subarray(end.at + end.len);
      if (rest.length > 0) res.write(rest);
    };
    child.stdout.on('data', onData);
    child.once('error', reject);
    child.once('close', (exit) => {
      if (status === 0) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`git http-backend exited ${String(exit)}: ${stderr}`);
        resolve(500);
        return;
      }
      res.end();
      resolve(status);
    });
  });
}

function findHeaderEnd(buf: Buffer): { at: number; len: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, len: 4 };
  if (lf >= 0) return { at: lf, len: 2 };
  return undefined;
}

function parseCgiHead(text: string): { code: number; headers: Record<string, string> } {
  let code = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') code = Number.parseInt(value, 10) || 200;
    else headers[name] = value;
  }
  return { code, headers };
}

/** The whole request body, gunzipped when the client sent `Content-Encoding: gzip`. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}
