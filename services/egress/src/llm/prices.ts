import type { Logger } from '@berth/service-kit';
import { z } from 'zod';

/** USD per million tokens, keyed by model name or by a prefix ending in `*`. */
export const PricesSchema = z.record(z.string().min(1), z.strictObject({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) }));
export type Prices = z.infer<typeof PricesSchema>;
type Price = Prices[string];

/**
 * Cost of a call from egress's price table: the exact model first, else the longest matching
 * `prefix*`. An unpriced model costs 0 and is logged once at warn.
 */
export class PriceTable {
  private readonly prefixes: [string, Price][];
  private readonly warned = new Set<string>();

  constructor(
    private readonly prices: Prices,
    private readonly logger: Logger,
  ) {
    this.prefixes = Object.entries(prices)
      .filter(([k]) => k.endsWith('*'))
      .map(([k, v]): [string, Price] => [k.slice(0, -1), v])
      .sort((a, b) => b[0].length - a[0].length);
  }

  price(model: string): Price | undefined {
    const exact = Object.hasOwn(this.prices, model) && !model.endsWith('*') ? this.prices[model] : undefined;
    return exact ?? this.prefixes.find(([p]) => model.startsWith(p))?.[1];
  }

  /** USD for the tokens (0 when the model is unknown or unpriced). */
  cost(model: string | null, inputTokens: number, outputTokens: number): number {
    if (inputTokens === 0 && outputTokens === 0) return 0;
    const p = model === null ? undefined : this.price(model);
    if (!p) {
      const name = model ?? '(none)';
      if (!this.warned.has(name)) {
        this.warned.add(name);
        this.logger.warn({ model: name }, 'LLM model has no price in LLM_PRICES; its spend counts 0');
      }
      return 0;
    }
    return (inputTokens * p.inputPerMTok + outputTokens * p.outputPerMTok) / 1e6;
  }
}
