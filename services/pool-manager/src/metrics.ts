import { Counter, Gauge, Histogram, type Registry } from '@berth/service-kit';
import { countByPool } from './pool-filler.js';
import type { WorkspaceStore } from './state/workspace-store.js';

export interface PoolMetrics {
  claimSeconds: Histogram<'outcome'>;
  /** Create requests answered, by pool and outcome (warm, cold, error). */
  claims: Counter<'pool' | 'outcome'>;
  /** Setup phases by phase and how they ended (ok, or the failure code). */
  setupPhaseSeconds: Histogram<'phase' | 'outcome'>;
}

export function registerPoolMetrics(registry: Registry, store: WorkspaceStore): PoolMetrics {
  new Gauge({
    name: 'berth_pool_containers',
    help: 'Containers per pool and state',
    labelNames: ['pool', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [pool, c] of await countByPool(store)) {
        for (const state of ['warm', 'creating', 'claimed'] as const) this.set({ pool, state }, c[state]);
      }
    },
  });
  return {
    claimSeconds: new Histogram({
      name: 'berth_claim_seconds',
      help: 'Time to answer a create request, by outcome (warm, cold, error)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    claims: new Counter({
      name: 'berth_claims_total',
      help: 'Create requests answered, by pool and outcome (warm: from the pool, cold: created on demand, error)',
      labelNames: ['pool', 'outcome'],
      registers: [registry],
    }),
    setupPhaseSeconds: new Histogram({
      name: 'berth_setup_phase_seconds',
      help: 'Time spent in each repository setup phase, by phase and outcome (ok or the failure code)',
      labelNames: ['phase', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
  };
}
