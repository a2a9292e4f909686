import { HealthSchema, PoolListSchema, type Health, type PoolView } from '@berth/contracts';
import { Containers } from './containers.js';
import type { BerthOptions, CallOptions } from './options.js';
import { Transport } from './transport.js';
import { Volumes } from './volumes.js';
import { Templates } from './templates.js';

/**
 * A client for one berth gateway. Every call takes `timeoutMs`, `signal` and `retry`; errors are
 * BerthApiError (with the contracts' code), BerthTimeoutError, BerthAbortError,
 * BerthNetworkError or BerthResponseError.
 */
export class Berth {
  readonly containers: Containers;
  readonly pools: { list(opts?: CallOptions): Promise<PoolView[]> };
  readonly volumes: Volumes;
  readonly templates: Templates;
  readonly #transport: Transport;

  /** `url` and `apiKey` default to the BERTH_URL and BERTH_API_KEY environment variables. */
  constructor(opts: BerthOptions = {}) {
    this.#transport = new Transport(opts);
    this.containers = new Containers(this.#transport);
    this.pools = { list: (o) => this.#listPools(o) };
    this.volumes = new Volumes(this.#transport);
    this.templates = new Templates(this.#transport);
  }

  get url(): string {
    return this.#transport.url;
  }

  /** Gateway health. A degraded gateway (pool-manager not answering) resolves with `status: 'degraded'`. */
  health(opts: CallOptions = {}): Promise<Health> {
    return this.#transport.request({ method: 'GET', path: '/health', schema: HealthSchema, ok: [200, 503], idempotent: true }, opts);
  }

  async #listPools(opts: CallOptions = {}): Promise<PoolView[]> {
    const list = await this.#transport.request({ method: 'GET', path: '/api/pools', schema: PoolListSchema, idempotent: true }, opts);
    return list.pools;
  }
}
