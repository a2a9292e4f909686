import { EVENTS, type LlmUsageEvent } from '@berth/contracts';
import { publishValidated, type Counter, type Logger, type NatsConnection } from '@berth/service-kit';
import type { ForwardedCall } from './handler.js';
import type { PriceTable } from './prices.js';
import type { LlmStore } from './store.js';

export interface CallMetrics {
  requests: Counter<'provider' | 'outcome'>;
  tokens: Counter<'provider' | 'direction'>;
}

/**
 * What happens after a forwarded call's answer ended: its usage is added in Redis (totals and
 * today's counters, which the daily limits read), published as an LlmUsageEvent, counted, and
 * logged in one line (never headers or keys).
 */
export function callRecorder(
  store: Pick<LlmStore, 'record'>,
  prices: PriceTable,
  nc: NatsConnection,
  metrics: CallMetrics,
  logger: Logger,
): (call: ForwardedCall) => void {
  return (call) => {
    const { route, usage, workspaceId, owner, status } = call;
    const { provider } = route;
    const costUsd = prices.cost(usage.model, usage.inputTokens, usage.outputTokens);
    const answered = status >= 200 && status < 300;
    metrics.requests.inc({ provider, outcome: call.cut ? 'cut' : answered ? 'answered' : 'provider_error' });
    metrics.tokens.inc({ provider, direction: 'input' }, usage.inputTokens);
    metrics.tokens.inc({ provider, direction: 'output' }, usage.outputTokens);
    const durationMs = Math.round(call.durationMs * 100) / 100;
    logger.info(
      {
        provider,
        endpoint: route.endpoint,
        workspaceId,
        status,
        model: usage.model,
        stream: call.stream,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        ms: durationMs,
        cut: call.cut,
      },
      'llm call',
    );
    const event: LlmUsageEvent = {
      workspaceId,
      owner,
      provider,
      endpoint: route.path,
      model: usage.model,
      stream: call.stream,
      status,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costUsd,
      durationMs,
      at: new Date(call.startedAt).toISOString(),
    };
    store
      .record({ workspaceId, owner, provider, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsd, answered })
      .catch((err: unknown) => logger.error({ workspaceId, err: (err as Error).message }, 'llm usage not recorded'));
    try {
      publishValidated(nc, EVENTS.usage.subject(workspaceId), EVENTS.usage.schema, event, logger);
    } catch (err) {
      logger.error({ workspaceId, err: (err as Error).message }, 'llm usage event not published');
    }
  };
}
