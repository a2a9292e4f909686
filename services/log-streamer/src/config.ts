import { commonConfigShape, envInt, loadConfig } from '@berth/service-kit';
import { z } from 'zod';

export const logStreamerConfigSchema = z.object({
  ...commonConfigShape,
  DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
  /** LOGS stream bounds: lines older than this, or beyond this many bytes (oldest first), are dropped. */
  LOGS_MAX_AGE_SECONDS: envInt(7 * 24 * 3600, 60),
  LOGS_MAX_BYTES: envInt(1024 ** 3, 1024 * 1024),
  /** Longer lines are split into pieces of at most this many bytes, each but the last flagged `cont`. */
  LOGS_MAX_LINE_BYTES: envInt(16 * 1024, 64, 1024 * 1024),
  /** How often Docker is listed for containers the event stream did not announce. */
  LOGS_RESCAN_INTERVAL_MS: envInt(10_000, 100, 3_600_000),
  /** On resume, Docker is asked for output from this long before the last stored line (then deduplicated). */
  LOGS_RESUME_SLACK_MS: envInt(2_000, 0, 60_000),
  /** Publishes awaiting their JetStream ack, per container; reading Docker pauses beyond it. */
  LOGS_MAX_IN_FLIGHT: envInt(1024, 1, 65_536),
  /** Its own name: every service reads the same .env, and pool-manager's HEALTH_PORT is taken. */
  LOG_STREAMER_HEALTH_PORT: envInt(9102, 0, 65535),
  HEALTH_BIND: z.string().default('127.0.0.1'),
});

export type LogStreamerConfig = z.infer<typeof logStreamerConfigSchema>;

export function loadLogStreamerConfig(env: Record<string, string | undefined> = process.env): LogStreamerConfig {
  return loadConfig(logStreamerConfigSchema, env);
}
