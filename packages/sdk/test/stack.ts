import { startLocalStack, type LocalStack } from '../../../test/support/local-stack.js';
import { portRange } from '@berth/service-kit/testing';

/** The real stack with one small pool, on a port range of its own. */
export function startSmallStack(): Promise<LocalStack> {
  const { lo } = portRange();
  return startLocalStack({
    POOLS: JSON.stringify([{ name: 'default', targetSize: 2, maxCreating: 2, memoryMb: 64, pids: 64 }]),
    PORT_RANGE: `${lo}-${lo + 99}`,
    MAX_CONTAINERS: '6',
  });
}
