/** The variables every command in a workspace gets: both SDKs' base URLs on egress, and the workspace's scoped key. */
export function llmEnv(egressUrl: string, key: string): Record<string, string> {
  const base = egressUrl.replace(/\/+$/, '');
  return {
    OPENAI_BASE_URL: `${base}/llm/openai/v1`,
    OPENAI_API_KEY: key,
    ANTHROPIC_BASE_URL: `${base}/llm/anthropic`,
    ANTHROPIC_API_KEY: key,
  };
}

/**
 * NO_PROXY for setup processes, which get HTTP_PROXY: egress's own host, so SDKs that honour
 * HTTP_PROXY call the LLM base URL directly instead of through the forward proxy. Keeps what the
 * caller's envVars listed already.
 */
export function noProxyEnv(egressUrl: string, callerEnv: Record<string, string> = {}): Record<string, string> {
  if (!egressUrl) return {};
  const host = new URL(egressUrl).hostname.replace(/^\[|\]$/g, '');
  const existing = callerEnv.NO_PROXY ?? callerEnv.no_proxy ?? '';
  const list = existing
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const value = [...list, ...(list.includes(host) ? [] : [host])].join(',');
  return { NO_PROXY: value, no_proxy: value };
}
