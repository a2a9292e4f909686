import { commonConfigShape, ConfigError, envInt, loadConfig } from '@berth/service-kit';
import { TEMPLATE_CONTEXT_HARD_MAX_BYTES } from '@berth/contracts';
import { z } from 'zod';

export const imageBuilderConfigSchema = z.object({
  ...commonConfigShape,
  DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
  /** Builds of different repositories running at once (one repository never builds twice at once). */
  BUILD_CONCURRENCY: envInt(2, 1, 16),
  /** A copy that takes longer is killed and counts as a failed attempt. */
  BUILD_TIMEOUT_MS: envInt(600_000, 1_000, 3_600_000),
  /** Deliveries of one request before it is dropped as failed (a missing workspace is dropped at once). */
  BUILD_MAX_ATTEMPTS: envInt(5, 1, 100),
  /** Redelivery delay after a failed attempt, times the attempt number. */
  BUILD_RETRY_DELAY_MS: envInt(5_000, 0, 600_000),
  /** JetStream ack wait; a running build reports progress every third of it, so a crash redelivers after it. */
  BUILD_ACK_WAIT_MS: envInt(60_000, 1_000, 3_600_000),
  /** Memory limit of the copy container, MiB. */
  BUILD_MEMORY_MB: envInt(1024, 64, 65_536),
  /** Requests older than this are dropped from the BUILDS stream. */
  BUILDS_MAX_AGE_SECONDS: envInt(24 * 3600, 60),
  /** How often superseded main images still used by a container at the last try are collected again. */
  IMAGE_GC_INTERVAL_MS: envInt(600_000, 1_000, 86_400_000),
  /** Its own name: every service reads the same .env. 0 disables. */
  IMAGE_BUILDER_HEALTH_PORT: envInt(9104, 0, 65535),
  HEALTH_BIND: z.string().default('127.0.0.1'),
  // w5-templates-api: owners' templates (docs/templates.md)
  /** berth's workspace image: templates get its agent and tini (the same variable as pool-manager's). */
  WORKSPACE_IMAGE: z.string().default('berth/workspace:latest'),
  /** Templates an owner may keep on this host; a new name beyond it is TEMPLATE_LIMIT_REACHED. */
  MAX_TEMPLATES_PER_OWNER: envInt(20, 1, 10_000),
  /** A template build (its upload, both build stages and its tree) running longer is stopped: TEMPLATE_BUILD_TIMEOUT. The gateway reads it too. */
  TEMPLATE_BUILD_TIMEOUT_MS: envInt(600_000, 1_000, 3_600_000),
  /** Largest tar context accepted, bytes (the gateway refuses larger bodies first: it reads the same variable). */
  TEMPLATE_CONTEXT_MAX_BYTES: envInt(64 * 1024 * 1024, 1024, TEMPLATE_CONTEXT_HARD_MAX_BYTES),
  /**
   * Docker network of template builds' RUN steps: none (no network at all) by default, or the
   * workspaces' network (checked at start: berth's options, so only egress's proxy answers there).
   */
  TEMPLATE_BUILD_NETWORK: z.string().min(1).default('none'),
  /** egress's forward proxy as the RUN steps reach it (HTTP(S)_PROXY build args); needs TEMPLATE_BUILD_NETWORK. */
  TEMPLATE_BUILD_PROXY_URL: z.union([z.literal(''), z.url({ protocol: /^http$/ })]).default(''),
  /** CPU of a template build's RUN steps, percent of one core: an owner's build cannot take the host's cores. */
  TEMPLATE_BUILD_CPU_PERCENT: envInt(100, 1, 6_400),
});

export type ImageBuilderConfig = z.infer<typeof imageBuilderConfigSchema>;

export function loadImageBuilderConfig(env: Record<string, string | undefined> = process.env): ImageBuilderConfig {
  const config = loadConfig(imageBuilderConfigSchema, env);
  if (config.TEMPLATE_BUILD_PROXY_URL && config.TEMPLATE_BUILD_NETWORK === 'none') {
    throw new ConfigError(
      "invalid configuration:\n  TEMPLATE_BUILD_PROXY_URL: builds on TEMPLATE_BUILD_NETWORK=none cannot reach a proxy; set the workspaces' network",
    );
  }
  return config;
}
