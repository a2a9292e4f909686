// Runs INSIDE a workspace: the official `openai` and `@anthropic-ai/sdk` clients, constructed the
// way an agent would (keys and base URLs from the environment berth sets), with automatic retries
// off so a 429 is seen rather than waited out. Prints one JSON line per call.
// Usage: node llm-client.mjs <call> [count]; calls: openai-chat, openai-stream, openai-embeddings,
// openai-models, anthropic-message, anthropic-stream, burst (count openai-chat calls, then one more
// after the first 429's Retry-After).
import console from 'node:console';
import process from 'node:process';
import { setTimeout } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

// Made per call: a client without its key in the environment throws when constructed.
const openai = () => new OpenAI({ maxRetries: 0 });
const anthropic = () => new Anthropic({ maxRetries: 0 });
const messages = [{ role: 'user', content: 'Say hello to berth.' }];

const calls = {
  'openai-chat': async () => {
    const r = await openai().chat.completions.create({ model: 'gpt-fake', messages });
    return { text: r.choices[0]?.message.content, usage: r.usage };
  },
  'openai-stream': async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-fake', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let usage;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    return { text, chunks, usage };
  },
  'openai-embeddings': async () => {
    const r = await openai().embeddings.create({ model: 'embed-fake', input: 'berth' });
    return { dims: r.data[0]?.embedding.length, usage: r.usage };
  },
  'openai-models': async () => {
    const page = await openai().models.list();
    return { models: page.data.map((m) => m.id) };
  },
  'anthropic-message': async () => {
    const r = await anthropic().messages.create({ model: 'claude-fake', max_tokens: 64, messages });
    return { text: r.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), usage: r.usage };
  },
  'anthropic-stream': async () => {
    const stream = anthropic().messages.stream({ model: 'claude-fake', max_tokens: 64, messages });
    let chunks = 0;
    stream.on('text', () => {
      chunks++;
    });
    const final = await stream.finalMessage();
    return { text: final.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), chunks, usage: final.usage };
  },
};

/** What an SDK error carries: its class, the HTTP status, Retry-After and the provider's error body. */
function describeError(err) {
  const headers = err?.headers;
  const retryAfter = typeof headers?.get === 'function' ? headers.get('retry-after') : headers?.['retry-after'];
  return {
    ok: false,
    name: err?.constructor?.name,
    status: err?.status ?? null,
    retryAfter: retryAfter ?? null,
    error: err?.error ?? null,
    message: String(err?.message ?? err),
  };
}

async function one(name) {
  try {
    return { ok: true, call: name, ...(await calls[name]()) };
  } catch (err) {
    return { call: name, ...describeError(err) };
  }
}

async function burst(count) {
  const statuses = [];
  let limited;
  for (let i = 0; i < count && !limited; i++) {
    const r = await one('openai-chat');
    statuses.push(r.ok ? 200 : r.status);
    if (!r.ok) limited = r;
  }
  if (!limited) return { ok: true, call: 'burst', statuses };
  const waitMs = Number(limited.retryAfter) * 1000;
  await setTimeout(waitMs);
  const after = await one('openai-chat');
  return { ok: true, call: 'burst', statuses, limited, waitedMs: waitMs, after };
}

const [name, count] = process.argv.slice(2);
if (name === 'burst') console.log(JSON.stringify(await burst(Number(count ?? 100))));
else if (calls[name]) console.log(JSON.stringify(await one(name)));
else {
  console.error(`unknown call ${name}; one of ${Object.keys(calls).join(', ')}, burst`);
  process.exit(2);
}
