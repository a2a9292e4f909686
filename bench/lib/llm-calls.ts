import { Agent, request, type IncomingMessage } from 'node:http';
import type { FakeLlm } from '../../test/support/fake-llm.js';
import { summary } from './stats.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const now = () => performance.timeOrigin + performance.now();

/** One POST with a keep-alive connection; calls `onData` with the arrival time of each chunk. */
function post(url: string, body: string, headers: Record<string, string>, onData: (at: number) => void = () => undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res: IncomingMessage) => {
        res.on('data', () => onData(now()));
        res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`status ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const CHAT = JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'Say hello in a few words.' }] });
const STREAM = JSON.stringify({
  model: 'gpt-fake',
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Say hello.' }],
});

/**
 * Non-streaming chat completions, alternately straight to the fake provider and through egress
 * (same keep-alive client), after a warm-up: latency of each, ms.
 */
export async function chatLatency(
  fake: FakeLlm,
  egressBase: string,
  scopedKey: string,
  realKey: string,
  calls: number,
): Promise<{ direct: number[]; proxied: number[] }> {
  const direct: number[] = [];
  const proxied: number[] = [];
  const one = async (base: string, key: string, into?: number[]) => {
    const t0 = performance.now();
    await post(`${base}/chat/completions`, CHAT, { authorization: `Bearer ${key}` });
    into?.push(performance.now() - t0);
  };
  for (let i = 0; i < 20; i++) {
    await one(fake.openaiBaseUrl, realKey);
    await one(egressBase, scopedKey);
  }
  for (let i = 0; i < calls; i++) {
    await one(fake.openaiBaseUrl, realKey, direct);
    await one(egressBase, scopedKey, proxied);
  }
  return { direct, proxied };
}

/**
 * Streaming chat completions through egress: for each call, the delay between the fake writing
 * a chunk and the client receiving it (first chunk, and every chunk when none coalesced).
 */
export async function streamForwarding(fake: FakeLlm, egressBase: string, scopedKey: string, calls: number) {
  const first: number[] = [];
  const every: number[] = [];
  for (let i = 0; i < calls; i++) {
    const from = fake.chunkWrites.length;
    const arrivals: number[] = [];
    await post(`${egressBase}/chat/completions`, STREAM, { authorization: `Bearer ${scopedKey}` }, (at) => arrivals.push(at));
    const writes = fake.chunkWrites.slice(from);
    first.push(arrivals[0]! - writes[0]!);
    if (arrivals.length === writes.length) every.push(...arrivals.map((a, j) => a - writes[j]!));
  }
  return { first: summary(first), every: summary(every) };
}

export function closeLlmClient(): void {
  agent.destroy();
}
