import { StringDecoder } from 'node:string_decoder';

export interface MeteredUsage {
  model: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** A JSON answer bigger than this is not parsed for usage (it is still forwarded whole). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Tokens of one `usage` object, in any provider's shape: OpenAI chat/embeddings
 * (`prompt_tokens`, `completion_tokens`), OpenAI responses and Anthropic (`input_tokens`,
 * `output_tokens`, plus Anthropic's cache tokens, which are input too). Undefined when it has none.
 */
export function tokensOf(usage: unknown): { input?: number; output?: number } | undefined {
  if (!isObj(usage)) return undefined;
  if ('prompt_tokens' in usage || 'completion_tokens' in usage) {
    return { input: num(usage.prompt_tokens), output: num(usage.completion_tokens) };
  }
  const out: { input?: number; output?: number } = {};
  if ('input_tokens' in usage) out.input = num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens);
  if ('output_tokens' in usage) out.output = num(usage.output_tokens);
  return out.input === undefined && out.output === undefined ? undefined : out;
}

/**
 * Reads usage from an answer as it streams past, without holding it up: the caller writes each
 * chunk to the client first, then feeds it here. JSON answers are parsed once complete; SSE
 * answers event by event (chunk boundaries anywhere). Values seen later replace earlier ones
 * (Anthropic's `message_delta` output count is cumulative).
 */
export class UsageMeter {
  private readonly usage: MeteredUsage = { model: null, inputTokens: 0, outputTokens: 0 };
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private data: string[] = [];

  constructor(readonly mode: 'json' | 'sse' | 'none') {}

  static forContentType(contentType: string | undefined): UsageMeter {
    const ct = (contentType ?? '').toLowerCase();
    return new UsageMeter(ct.includes('text/event-stream') ? 'sse' : ct.includes('json') ? 'json' : 'none');
  }

  feed(chunk: Buffer): void {
    if (this.mode === 'json') {
      this.size += chunk.length;
      if (this.size <= MAX_JSON_BYTES) this.chunks.push(chunk);
      else this.chunks.length = 0;
    } else if (this.mode === 'sse') {
      this.lines(this.decoder.write(chunk));
    }
  }

  /** The usage once the answer has ended (or was cut: whatever was seen). */
  end(): MeteredUsage {
    if (this.mode === 'json' && this.chunks.length > 0) {
      try {
        this.take(JSON.parse(Buffer.concat(this.chunks).toString('utf8')));
      } catch {
        /* not JSON: no usage */
      }
      this.chunks.length = 0;
    } else if (this.mode === 'sse') {
      this.lines(`${this.decoder.end()}\n\n`);
    }
    return { ...this.usage };
  }

  private lines(text: string): void {
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop()!;
    for (const raw of parts) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') this.dispatch();
      else if (line.startsWith('data:')) this.data.push(line.slice(line[5] === ' ' ? 6 : 5));
    }
  }

  private dispatch(): void {
    if (this.data.length === 0) return;
    const payload = this.data.join('\n');
    this.data = [];
    if (payload === '[DONE]' || (!payload.includes('usage') && !payload.includes('model'))) return;
    try {
      this.take(JSON.parse(payload));
    } catch {
      /* not JSON */
    }
  }

  /** One answer body or SSE event, any provider. */
  private take(obj: unknown): void {
    if (!isObj(obj)) return;
    // OpenAI responses API events (`response.completed` …) and Anthropic `message_start` nest the object.
    const inner = isObj(obj.response) ? obj.response : isObj(obj.message) ? obj.message : undefined;
    if (inner) this.take(inner);
    if (typeof obj.model === 'string' && obj.model) this.usage.model = obj.model;
    const t = tokensOf(obj.usage);
    if (t?.input !== undefined && (t.input > 0 || this.usage.inputTokens === 0)) this.usage.inputTokens = t.input;
    if (t?.output !== undefined) this.usage.outputTokens = t.output;
  }
}
