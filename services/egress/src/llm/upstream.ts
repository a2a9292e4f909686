import type { LlmProvider } from '@berth/contracts';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { forwardHeaders } from '../proxy/server.js';

export interface ProviderConfig {
  /** Requests go to `<apiBase>/<path>`: OpenAI's base as configured, Anthropic's base + `/v1`. */
  apiBase: string;
  /** The real key; empty: not configured. */
  apiKey: string;
}

/** Client credentials (the scoped key) are replaced by the real key; the rest passes, minus hop-by-hop. */
const DROPPED = new Set(['authorization', 'x-api-key', 'host', 'accept-encoding']);

export function upstreamHeaders(provider: LlmProvider, incoming: IncomingMessage['headers'], apiKey: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(forwardHeaders(incoming))) if (!DROPPED.has(k)) out[k] = v;
  // Uncompressed, so egress can read usage from the answer as it passes.
  out['accept-encoding'] = 'identity';
  if (provider === 'anthropic') out['x-api-key'] = apiKey;
  else out.authorization = `Bearer ${apiKey}`;
  return out;
}

/** Keep-alive connections to the providers: no TCP/TLS handshake per call. */
const agents = { http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }), https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }) };

export function upstreamRequest(cfg: ProviderConfig, path: string, method: string, headers: OutgoingHttpHeaders): ClientRequest {
  const url = new URL(`${cfg.apiBase.replace(/\/+$/, '')}/${path}`);
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  const req = send(url, { method, headers, agent: https ? agents.https : agents.http });
  req.on('socket', (s) => s.setNoDelay(true));
  return req;
}

export function destroyAgents(): void {
  agents.http.destroy();
  agents.https.destroy();
}
