import { Counter, Histogram, type Logger, type NatsConnection, type Redis, type Registry } from '@berth/service-kit';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EgressConfig } from '../config.js';
import { callRecorder } from './calls.js';
import { createLlmHandler } from './handler.js';
import { serveLlmKeys } from './key-handlers.js';
import { PriceTable } from './prices.js';
import { LlmStore } from './store.js';
import { destroyAgents } from './upstream.js';

/** The LLM side of egress: key handlers on NATS, and the /llm/ handler the proxy server routes to. */
export function startLlm(
  config: EgressConfig,
  registry: Registry,
  redis: Redis,
  nc: NatsConnection,
  logger: Logger,
): {
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  stop: () => void;
} {
  const requests = new Counter({
    name: 'berth_egress_llm_requests_total',
    help: "LLM calls by provider and outcome (answered, provider_error, cut, or egress's refusal)",
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'berth_egress_llm_tokens_total',
    help: 'LLM tokens the providers reported, by provider and direction',
    labelNames: ['provider', 'direction'] as const,
    registers: [registry],
  });
  const ttfb = new Histogram({
    name: 'berth_egress_llm_upstream_ttfb_seconds',
    help: "Time from forwarding an LLM call to the provider's response headers",
    labelNames: ['provider'] as const,
    buckets: [0.005, 0.02, 0.1, 0.3, 1, 3, 10, 30, 120, 600],
    registers: [registry],
  });

  const store = new LlmStore(
    redis,
    {
      requestsPerMinute: config.LLM_WORKSPACE_REQUESTS_PER_MINUTE,
      tokensPerDay: config.LLM_WORKSPACE_TOKENS_PER_DAY,
      spendCapUsdPerDay: config.LLM_WORKSPACE_SPEND_CAP_USD_PER_DAY,
    },
    {
      requestsPerMinute: config.LLM_OWNER_REQUESTS_PER_MINUTE,
      tokensPerDay: config.LLM_OWNER_TOKENS_PER_DAY,
      spendCapUsdPerDay: config.LLM_OWNER_SPEND_CAP_USD_PER_DAY,
    },
  );
  serveLlmKeys(nc, store, logger);
  const prices = new PriceTable(config.LLM_PRICES, logger);
  const handle = createLlmHandler(
    {
      store,
      providers: {
        openai: { apiBase: config.LLM_OPENAI_BASE_URL, apiKey: config.LLM_OPENAI_API_KEY },
        anthropic: { apiBase: `${config.LLM_ANTHROPIC_BASE_URL.replace(/\/+$/, '')}/v1`, apiKey: config.LLM_ANTHROPIC_API_KEY },
      },
      maxBodyBytes: config.LLM_MAX_BODY_BYTES,
      upstreamTimeoutMs: config.LLM_UPSTREAM_TIMEOUT_MS,
      socketTimeoutMs: Math.max(config.EGRESS_IDLE_TIMEOUT_MS, config.LLM_UPSTREAM_TIMEOUT_MS),
      onRefused: (provider, outcome) => requests.inc({ provider, outcome }),
      onFirstByte: (provider, ms) => ttfb.observe({ provider }, ms / 1000),
      onForwarded: callRecorder(store, prices, nc, { requests, tokens }, logger),
    },
    logger,
  );
  const configured = (['openai', 'anthropic'] as const).filter((p) => (p === 'openai' ? config.LLM_OPENAI_API_KEY : config.LLM_ANTHROPIC_API_KEY) !== '');
  logger.info({ providers: configured }, 'llm proxy ready');
  return { handle, stop: destroyAgents };
}
