import { describe, expect, it } from 'vitest';
import { tokensOf, UsageMeter } from '../src/llm/usage-meter.js';

/** Feeds `text` cut at every `step` bytes (multi-byte characters split too). */
function meter(mode: 'json' | 'sse', text: string, step: number) {
  const m = new UsageMeter(mode);
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += step) m.feed(buf.subarray(i, i + step));
  return m.end();
}
const sse = (events: unknown[], eol = '\n') =>
  events.map((e) => (e === 'DONE' ? `data: [DONE]${eol}${eol}` : `event: x${eol}data: ${JSON.stringify(e)}${eol}${eol}`)).join('');

const OPENAI_CHAT_STREAM = sse([
  { id: 'c', model: 'gpt-4o-2024', choices: [{ delta: { content: 'héllo ✓' } }], usage: null },
  { id: 'c', model: 'gpt-4o-2024', choices: [{ delta: {}, finish_reason: 'stop' }], usage: null },
  { id: 'c', model: 'gpt-4o-2024', choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } },
  'DONE',
]);
const RESPONSES_STREAM = sse([
  { type: 'response.created', response: { model: 'gpt-5', usage: null } },
  { type: 'response.output_text.delta', delta: 'model usage words' },
  { type: 'response.completed', response: { model: 'gpt-5', usage: { input_tokens: 30, output_tokens: 4, input_tokens_details: { cached_tokens: 10 } } } },
]);
const ANTHROPIC_STREAM = sse(
  [
    {
      type: 'message_start',
      message: { model: 'claude-x', usage: { input_tokens: 5, cache_creation_input_tokens: 100, cache_read_input_tokens: 20, output_tokens: 1 } },
    },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } },
    { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } },
    { type: 'message_stop' },
  ],
  '\r\n',
);

describe('UsageMeter', () => {
  it.each([1, 2, 3, 7, 64, 100_000])('reads SSE streams of every provider cut every %i bytes', (step) => {
    expect(meter('sse', OPENAI_CHAT_STREAM, step)).toEqual({ model: 'gpt-4o-2024', inputTokens: 12, outputTokens: 7 });
    expect(meter('sse', RESPONSES_STREAM, step)).toEqual({ model: 'gpt-5', inputTokens: 30, outputTokens: 4 });
    expect(meter('sse', ANTHROPIC_STREAM, step)).toEqual({ model: 'claude-x', inputTokens: 125, outputTokens: 9 });
  });

  it('takes newer cumulative Anthropic message_delta usage that repeats input tokens', () => {
    const s = sse([
      { type: 'message_start', message: { model: 'c', usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: 'message_delta', usage: { input_tokens: 5, cache_read_input_tokens: 3, output_tokens: 4 } },
    ]);
    expect(meter('sse', s, 5)).toEqual({ model: 'c', inputTokens: 8, outputTokens: 4 });
  });

  it.each([1, 5, 1000])('reads JSON answers cut every %i bytes', (step) => {
    const chat = JSON.stringify({ model: 'gpt-4o', choices: [{ message: { content: 'ünïcode' } }], usage: { prompt_tokens: 3, completion_tokens: 2 } });
    expect(meter('json', chat, step)).toEqual({ model: 'gpt-4o', inputTokens: 3, outputTokens: 2 });
    const emb = JSON.stringify({ model: 'text-embedding-3-small', data: [], usage: { prompt_tokens: 8, total_tokens: 8 } });
    expect(meter('json', emb, step)).toEqual({ model: 'text-embedding-3-small', inputTokens: 8, outputTokens: 0 });
    const resp = JSON.stringify({ object: 'response', model: 'gpt-5', usage: { input_tokens: 4, output_tokens: 6 } });
    expect(meter('json', resp, step)).toEqual({ model: 'gpt-5', inputTokens: 4, outputTokens: 6 });
    const msg = JSON.stringify({ type: 'message', model: 'claude', usage: { input_tokens: 1, cache_read_input_tokens: 2, output_tokens: 3 } });
    expect(meter('json', msg, step)).toEqual({ model: 'claude', inputTokens: 3, outputTokens: 3 });
  });

  it('finds nothing in answers without usage, broken JSON or other content types', () => {
    expect(meter('json', '{"data":[{"id":"m"}]}', 3)).toEqual({ model: null, inputTokens: 0, outputTokens: 0 });
    expect(meter('json', '{"usage": {"prompt_tokens": 3', 3)).toEqual({ model: null, inputTokens: 0, outputTokens: 0 });
    expect(meter('sse', 'data: {"usage": \n\n', 3)).toEqual({ model: null, inputTokens: 0, outputTokens: 0 });
    expect(UsageMeter.forContentType('text/plain').mode).toBe('none');
    expect(UsageMeter.forContentType('text/event-stream; charset=utf-8').mode).toBe('sse');
    expect(UsageMeter.forContentType('application/json').mode).toBe('json');
  });

  it('reads an unterminated last SSE event at the end', () => {
    expect(meter('sse', 'data: {"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}', 4)).toEqual({ model: 'm', inputTokens: 1, outputTokens: 2 });
  });

  it('tokensOf ignores negative, fractional and non-number values', () => {
    expect(tokensOf({ prompt_tokens: -3, completion_tokens: 2.7 })).toEqual({ input: 0, output: 2 });
    expect(tokensOf({ input_tokens: '5' })).toEqual({ input: 0 });
    expect(tokensOf(null)).toBeUndefined();
    expect(tokensOf({ total_tokens: 3 })).toBeUndefined();
  });
});
