import { z } from 'zod';
import { LlmUsageSchema } from './llm.js';
import { WorkspaceIdSchema } from './names.js';

/** One sample of a workspace's resource use (GET /api/containers/:id/usage). */
export const UsageSchema = z
  .object({
    id: WorkspaceIdSchema,
    /** When the engine took the sample. */
    at: z.iso.datetime(),
    /** CPU use over the sampling interval, 100 = one full core. */
    cpuPercent: z.number().nonnegative(),
    /** Memory in use, without the reclaimable page cache (as `docker stats` shows it). */
    memoryBytes: z.number().int().nonnegative(),
    memoryLimitBytes: z.number().int().nonnegative(),
    pids: z.number().int().nonnegative(),
    /** Bytes received and sent on all networks; 0 when the engine reports none. */
    netRxBytes: z.number().int().nonnegative(),
    netTxBytes: z.number().int().nonnegative(),
    /** LLM calls through egress (the gateway adds it; absent when egress did not answer). */
    llm: LlmUsageSchema.optional(),
  })
  .meta({ id: 'ContainerUsage' });
export type Usage = z.infer<typeof UsageSchema>;
