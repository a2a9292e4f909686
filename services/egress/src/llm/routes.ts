import type { LlmProvider } from '@berth/contracts';

export interface LlmRoute {
  provider: LlmProvider;
  /** The path below the provider's `v1/`, e.g. `chat/completions` or `models/gpt-4o`. */
  path: string;
  /** The path with ids replaced (`models/:id`): a metrics label. */
  endpoint: string;
  /** `?…` or empty. */
  search: string;
}

/** Segment characters egress forwards: no `%` (no encoded slashes or dots), no empty or dot segments. */
const SEGMENT = /^[A-Za-z0-9._~:@+=,-]+$/;

const OPENAI: [RegExp, string][] = [
  [/^chat\/completions$/, 'chat/completions'],
  [/^completions$/, 'completions'],
  [/^embeddings$/, 'embeddings'],
  [/^responses$/, 'responses'],
  [/^responses\/.+$/, 'responses/:id'],
  [/^models$/, 'models'],
  [/^models\/.+$/, 'models/:id'],
];
const ANTHROPIC: [RegExp, string][] = [
  [/^messages$/, 'messages'],
  [/^messages\/count_tokens$/, 'messages/count_tokens'],
  [/^models$/, 'models'],
  [/^models\/[^/]+$/, 'models/:id'],
];

/** The provider named by a `/llm/<provider>/…` URL, even when the rest of the path is not served (for its error format). */
export function providerOf(url: string): LlmProvider {
  return url.startsWith('/llm/anthropic/') || url === '/llm/anthropic' ? 'anthropic' : 'openai';
}

/** An origin-form `/llm/<provider>/v1/<path>[?query]`, or undefined when egress does not serve it. */
export function parseLlmRoute(url: string): LlmRoute | undefined {
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);
  const m = /^\/llm\/(openai|anthropic)\/v1\/(.+)$/.exec(pathname);
  if (!m) return undefined;
  const provider = m[1] as LlmProvider;
  const path = m[2]!;
  if (!path.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) return undefined;
  const table = provider === 'openai' ? OPENAI : ANTHROPIC;
  const hit = table.find(([re]) => re.test(path));
  return hit ? { provider, path, endpoint: hit[1], search } : undefined;
}
