import type { PoolManagerConfig } from './config.js';

/** The engine host this pool-manager runs workspaces on: one per pool-manager, built once in main. */
export interface Host {
  /** BERTH_HOST_ID: in labels, Redis keys, event streams and NATS names. */
  id: string;
  /** Which workload driver runs its workspaces. */
  engine: 'docker';
  capacity: {
    maxContainers: number;
    maxMemoryMb: number;
    /** Host ports handed to workspaces, inclusive. */
    portRange: [number, number];
  };
}

export function hostFromConfig(config: Pick<PoolManagerConfig, 'BERTH_HOST_ID' | 'MAX_CONTAINERS' | 'MAX_MEMORY_MB' | 'PORT_RANGE'>): Host {
  return {
    id: config.BERTH_HOST_ID,
    engine: 'docker',
    capacity: { maxContainers: config.MAX_CONTAINERS, maxMemoryMb: config.MAX_MEMORY_MB, portRange: config.PORT_RANGE },
  };
}
