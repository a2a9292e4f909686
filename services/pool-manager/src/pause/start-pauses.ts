import type { Logger, Redis, Stopper } from '@berth/service-kit';
import type { AgentRegistry } from '../agent/agent-registry.js';
import type { PoolManagerConfig } from '../config.js';
import type { EventPublisher } from '../events.js';
import type { LlmKeys } from '../llm/llm-keys.js';
import type { PoolRegistry } from '../pools.js';
import type { WorkspaceStore } from '../state/workspace-store.js';
import type { Lifecycle } from '../workspaces/lifecycle.js';
import type { Processes } from '../workspaces/processes.js';
import type { IdleReaper } from '../idle/idle-reaper.js';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import { PausedRetention } from './paused-retention.js';
import { PausedStore } from './paused-store.js';
import { Pauses } from './pauses.js';

interface PauseWiring {
  redis: Redis;
  driver: WorkloadDriver;
  store: WorkspaceStore;
  lifecycle: Lifecycle;
  processes: Processes;
  idle: IdleReaper;
  llm: LlmKeys;
  events: EventPublisher;
  pools: PoolRegistry;
  config: PoolManagerConfig;
  logger: Logger;
  agents?: AgentRegistry | undefined;
}

/**
 * Pause and resume wired into pool-manager: every process start goes through Pauses.ready (auto
 * resume), the idle reaper asks the workspace's onIdle policy, paused retention runs on its own timer.
 */
export function startPauses(w: PauseWiring, onStop: (s: Stopper) => void): { pauses: Pauses; retention: PausedRetention } {
  const paused = new PausedStore(w.redis, w.store);
  const pauses = new Pauses({
    store: w.store,
    paused,
    freezer: w.driver,
    llm: w.llm,
    events: w.events,
    pools: w.pools,
    config: w.config,
    logger: w.logger,
    agents: w.agents,
  });
  w.processes.beforeSpawn = (record) => pauses.ready(record);
  const retention = new PausedRetention(w.store, paused, pauses, w.lifecycle, w.events, w.config, w.logger);
  const timer = setInterval(() => {
    retention.run().catch((err: unknown) => w.logger.warn({ err }, 'paused retention check failed'));
  }, w.config.RECONCILE_INTERVAL_MS);
  onStop(() => clearInterval(timer));
  const idlePolicy = async (id: string): Promise<boolean> => {
    if ((await pauses.onIdle(id)) !== 'pause') return false;
    // A pause that failed leaves the workspace claimed: it is not removed against its policy; the next tick tries again.
    return pauses.pauseIdle(id).catch((err: unknown) => {
      w.logger.warn({ err, id }, 'idle workspace not paused; retried at the next check');
      return true;
    });
  };
  w.idle.onIdle = idlePolicy;
  return { pauses, retention };
}
