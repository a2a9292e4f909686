import { startLocalStack, type LocalStack } from '../support/local-stack.js';

/** Warm containers of the soak stack's one pool when idle. */
export const SOAK_WARM = 2;

/** The real local stack (gateway, pool-manager, log-streamer, NATS, Redis, Docker) for a soak run. */
export function startSoakStack(): Promise<LocalStack> {
  return startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: SOAK_WARM, maxCreating: 2, memoryMb: 64, pids: 64 }]),
    MAX_CONTAINERS: '8',
  });
}
