import type { PoolManagerConfig } from '../config.js';

type TimeoutConfig = Pick<PoolManagerConfig, 'IDLE_TTL_MS' | 'IDLE_TTL_MAX_MS' | 'IDLE_WARNING_MS'>;

/** A workspace's idle timeout: its own (0: none set) or the default, never above the operator's maximum. */
export function idleTimeoutMs(own: number, config: TimeoutConfig): number {
  return Math.min(own > 0 ? own : config.IDLE_TTL_MS, maxIdleTimeoutMs(config));
}

/** The maximum is never below the default, whatever the operator set. */
export function maxIdleTimeoutMs(config: TimeoutConfig): number {
  return Math.max(config.IDLE_TTL_MAX_MS, config.IDLE_TTL_MS);
}

/** How long before the reap the warning goes out: IDLE_WARNING_MS, or half of a shorter timeout. */
export function warningLeadMs(timeoutMs: number, config: TimeoutConfig): number {
  return Math.min(config.IDLE_WARNING_MS, Math.floor(timeoutMs / 2));
}
