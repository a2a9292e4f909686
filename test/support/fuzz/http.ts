import { request } from 'node:http';
import type { FuzzResponse } from './check.js';
import type { FuzzRequest } from './requests.js';

/**
 * Sends a fuzzed request over a real socket with node:http, which (unlike fetch) sends the path
 * exactly as given: `..` and `/./` segments are not normalised away before the gateway sees them.
 */
export function sendHttp(base: string, req: FuzzRequest, timeoutMs = 30_000): Promise<FuzzResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // node sends the body of a GET, HEAD, DELETE or OPTIONS without a length unframed (not chunked):
    // bytes after the request, which the gateway answers by closing the connection once the request
    // is answered. Such a request gets its own connection, so no later request reuses a closing one.
    const unframed =
      req.payload !== undefined &&
      ['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method) &&
      !Object.keys(req.headers).some((h) => h.toLowerCase() === 'content-length');
    const r = request(
      { hostname, port, method: req.method, path: req.url, headers: req.headers, timeout: timeoutMs, ...(unframed && { agent: false }) },
      (res) => {
        // A followed log or a streaming exec never ends by itself: its status and headers are the answer.
        if (res.statusCode === 200 && /text\/event-stream|ndjson/.test(String(res.headers['content-type']))) {
          resolve({ status: 200, headers: res.headers, body: '' });
          r.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(req.payload);
  });
}
