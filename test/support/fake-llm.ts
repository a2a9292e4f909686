import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from '@berth/service-kit/testing';

/** One request a fake provider received. */
interface FakeLlmRequest {
  provider: 'openai' | 'anthropic';
  /** Below the provider's `v1/`, e.g. `chat/completions`, with the query string. */
  path: string;
  /** The credential it was sent: `Authorization` (OpenAI) or `x-api-key` (Anthropic) as received. */
  auth: string | undefined;
  body: unknown;
  stream: boolean;
}

export interface FakeLlmOptions {
  openaiKey: string;
  anthropicKey: string;
  host?: string;
  /** Delay between SSE chunks. */
  chunkDelayMs?: number;
}

export interface FakeLlm {
  url: string;
  /** For OpenAI SDKs / LLM_OPENAI_BASE_URL. */
  openaiBaseUrl: string;
  /** For Anthropic SDKs / LLM_ANTHROPIC_BASE_URL (the SDK and egress add `/v1`). */
  anthropicBaseUrl: string;
  requests: FakeLlmRequest[];
  /** Totals of what it reported: tokens in `usage`, and successful (2xx) answers. */
  reported: { inputTokens: number; outputTokens: number; requests: number };
  /** `performance.timeOrigin + performance.now()` when each SSE chunk was written. */
  chunkWrites: number[];
  /** The next request (any provider) is answered with this status and JSON body, unchanged. */
  failNext(status: number, body: unknown): void;
  close(): Promise<void>;
}

/** The fake's answer, one word per streamed chunk; its output tokens = its word count. */
export const FAKE_REPLY = ['Hello', ' from', ' the', ' fake', ' provider', '.'];
const TEXT = FAKE_REPLY.join('');

/** Input tokens the fake reports for a request body: its JSON length / 4, rounded up. */
export const fakeInputTokens = (body: unknown) => Math.ceil(JSON.stringify(body ?? null).length / 4);

const now = () => performance.timeOrigin + performance.now();
const id = (p: string) => `${p}${randomBytes(8).toString('hex')}`;

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined);
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

/**
 * Local fake OpenAI-compatible and Anthropic APIs on one HTTP server: `/openai/v1/…` (chat
 * completions, completions, responses, embeddings, models) and `/anthropic/v1/…` (messages,
 * count_tokens, models), JSON and SSE. Wrong key → 401 in the provider's format. Usage is
 * deterministic (input = request JSON length / 4, output = reply words).
 */
export async function startFakeLlm(opts: FakeLlmOptions): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  const reported = { inputTokens: 0, outputTokens: 0, requests: 0 };
  const chunkWrites: number[] = [];
  let fail: { status: number; body: unknown } | undefined;
  const delay = opts.chunkDelayMs ?? 0;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': id('req_') }).end(text);
  };
  const count = (input: number, output: number) => {
    reported.inputTokens += input;
    reported.outputTokens += output;
  };

  async function sse(res: ServerResponse, events: ({ event?: string; data: unknown } | 'DONE')[]): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const [i, e] of events.entries()) {
      if (i > 0 && delay > 0) await sleep(delay);
      if (res.destroyed) return;
      res.write(e === 'DONE' ? 'data: [DONE]\n\n' : `${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
      chunkWrites.push(now());
    }
    res.end();
  }

  async function openai(path: string, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : 'gpt-fake';
    const input = fakeInputTokens(body);
    const output = FAKE_REPLY.length;
    const created = Math.floor(Date.now() / 1000);
    if (path === 'chat/completions' || path === 'completions') {
      const chat = path === 'chat/completions';
      const cid = id(chat ? 'chatcmpl-' : 'cmpl-');
      const object = chat ? 'chat.completion' : 'text_completion';
      const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
      if (!body.stream) {
        count(input, output);
        const choice = chat
          ? { index: 0, message: { role: 'assistant', content: TEXT, refusal: null }, logprobs: null, finish_reason: 'stop' }
          : { index: 0, text: TEXT, logprobs: null, finish_reason: 'stop' };
        return json(res, 200, { id: cid, object, created, model, choices: [choice], usage });
      }
      const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      if (withUsage) count(input, output);
      const chunk = (choices: unknown[], u: unknown = null) => ({
        data: {
          id: cid,
          object: `${object}.chunk`.replace('text_completion.chunk', 'text_completion'),
          created,
          model,
          choices,
          ...(withUsage ? { usage: u } : {}),
        },
      });
      const words = FAKE_REPLY.map((w, i) =>
        chunk([
          chat
            ? { index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: w }, finish_reason: null }
            : { index: 0, text: w, finish_reason: null },
        ]),
      );
      const last = chunk([chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' }]);
      return sse(res, [...words, last, ...(withUsage ? [chunk([], usage)] : []), 'DONE']);
    }
    if (path === 'responses') {
      const response = (status: string, u: unknown, text: string) => ({
        id: id('resp_'),
        object: 'response',
        created_at: created,
        status,
        model,
        output: text
          ? [{ type: 'message', id: id('msg_'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }]
          : [],
        usage: u,
        error: null,
        incomplete_details: null,
        instructions: null,
        metadata: {},
        parallel_tool_calls: true,
        temperature: 1,
        tool_choice: 'auto',
        tools: [],
        top_p: 1,
      });
      const usage = {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      };
      count(input, output);
      if (!body.stream) return json(res, 200, response('completed', usage, TEXT));
      return sse(res, [
        { event: 'response.created', data: { type: 'response.created', sequence_number: 0, response: response('in_progress', null, '') } },
        ...FAKE_REPLY.map((w, i) => ({
          event: 'response.output_text.delta',
          data: { type: 'response.output_text.delta', sequence_number: i + 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: w },
        })),
        {
          event: 'response.completed',
          data: { type: 'response.completed', sequence_number: FAKE_REPLY.length + 1, response: response('completed', usage, TEXT) },
        },
      ]);
    }
    if (path === 'embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const vector = [0.25, -0.5, 0.125];
      const encoded = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      count(input, 0);
      return json(res, 200, {
        object: 'list',
        data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: encoded })),
        model,
        usage: { prompt_tokens: input, total_tokens: input },
      });
    }
    if (path === 'models') return json(res, 200, { object: 'list', data: [{ id: 'gpt-fake', object: 'model', created, owned_by: 'fake' }] });
    if (path.startsWith('models/')) return json(res, 200, { id: path.slice(7), object: 'model', created, owned_by: 'fake' });
    return json(res, 404, { error: { message: `fake: no ${path}`, type: 'invalid_request_error', param: null, code: 'not_found' } });
  }

  async function anthropic(path: string, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : 'claude-fake';
    const input = fakeInputTokens(body);
    const output = FAKE_REPLY.length;
    if (path === 'messages') {
      const message = (content: unknown[], u: unknown, stop: string | null) => ({
        id: id('msg_'),
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: u,
      });
      count(input, output);
      if (!body.stream)
        return json(
          res,
          200,
          message(
            [{ type: 'text', text: TEXT }],
            { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
            'end_turn',
          ),
        );
      return sse(res, [
        {
          event: 'message_start',
          data: {
            type: 'message_start',
            message: message([], { input_tokens: input, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }, null),
          },
        },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        ...FAKE_REPLY.map((w) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } } })),
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]);
    }
    if (path === 'messages/count_tokens') return json(res, 200, { input_tokens: input });
    if (path === 'models')
      return json(res, 200, {
        data: [{ type: 'model', id: 'claude-fake', display_name: 'Claude Fake', created_at: '2025-01-01T00:00:00Z' }],
        has_more: false,
        first_id: 'claude-fake',
        last_id: 'claude-fake',
      });
    if (path.startsWith('models/')) return json(res, 200, { type: 'model', id: path.slice(7), display_name: 'Fake', created_at: '2025-01-01T00:00:00Z' });
    return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no ${path}` } });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const m = /^\/(openai|anthropic)\/v1\/(.+)$/.exec(url.pathname);
      const body = await readJson(req);
      if (!m) return json(res, 404, { error: 'fake: unknown path' });
      const provider = m[1] as 'openai' | 'anthropic';
      const path = m[2]!;
      const obj = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const auth = provider === 'openai' ? req.headers.authorization : (req.headers['x-api-key'] as string | undefined);
      requests.push({ provider, path: `${path}${url.search}`, auth, body, stream: obj.stream === true });
      if (fail) {
        const f = fail;
        fail = undefined;
        return json(res, f.status, f.body);
      }
      if (provider === 'openai' && auth !== `Bearer ${opts.openaiKey}`) {
        return json(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      }
      if (provider === 'anthropic' && auth !== opts.anthropicKey) {
        return json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
      }
      res.on('finish', () => {
        if (res.statusCode >= 200 && res.statusCode < 300) reported.requests++;
      });
      await (provider === 'openai' ? openai(path, obj, res) : anthropic(path, obj, res));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, opts.host ?? '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const host = (opts.host ?? '127.0.0.1').includes(':') ? `[${opts.host}]` : (opts.host ?? '127.0.0.1');
  const url = `http://${host}:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/openai/v1`,
    anthropicBaseUrl: `${url}/anthropic`,
    requests,
    reported,
    chunkWrites,
    failNext: (status, body) => {
      fail = { status, body };
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
