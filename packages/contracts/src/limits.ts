import { z } from 'zod';

/**
 * What a create may ask for beyond its pool's defaults (docs/limits.md). Each is checked against the
 * caller's maxima (OwnerLimitsSchema) by the gateway; `diskMb` is a filesystem of that size at
 * /workspace, so writing past it fails with ENOSPC inside and never fills the host.
 */
export const WorkspaceLimitsShape = {
  cpus: z.number().positive().max(64).optional(),
  memoryMb: z.number().int().min(16).max(262_144).optional(),
  diskMb: z.number().int().min(16).max(1_048_576).optional(),
};

/** An API key's maxima for what its creates ask (keys file `limits`); unset fields take DEFAULT_OWNER_LIMITS. */
export const OwnerLimitsSchema = z.strictObject({
  cpus: z.number().positive().max(64).optional(),
  memoryMb: z.number().int().min(16).max(262_144).optional(),
  /** 0: no disk limits for this owner's creates. */
  diskMb: z.number().int().min(0).max(1_048_576).optional(),
});
export type OwnerLimits = z.infer<typeof OwnerLimitsSchema>;

/** The maxima of a key that names none (and of BERTH_API_TOKEN). */
export const DEFAULT_OWNER_LIMITS = { cpus: 2, memoryMb: 4096, diskMb: 10_240 } as const satisfies Required<OwnerLimits>;
