import { z } from 'zod';
import { NextCursorSchema } from './paging.js';
import { HostIdSchema } from './names.js';
import { RepoNameSchema } from './repo.js';

/** How often each pool-manager publishes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 1000;
/** A gateway that heard nothing from a host for this long counts it `lost` (three missed beats). */
export const HOST_LOST_AFTER_MS = 3000;

/** What a host says of itself: `up`, or `draining` (no new workspaces; existing ones keep working). */
export const HostReportedStateSchema = z.enum(['up', 'draining']);
/** As the gateway sees it: a host it stopped hearing from is `lost`. */
export const HostStateSchema = z.enum(['up', 'draining', 'lost']).meta({ id: 'HostState' });
export type HostState = z.infer<typeof HostStateSchema>;

export const HostPoolSchema = z.object({
  name: z.string(),
  warm: z.number().int().min(0),
  creating: z.number().int().min(0),
  claimed: z.number().int().min(0),
});

const HostUseSchema = z.object({
  maxContainers: z.number().int().min(0),
  containers: z.number().int().min(0),
  maxMemoryMb: z.number().int().min(0),
  usedMemoryMb: z.number().int().min(0),
  /** Host ports still free in PORT_RANGE. */
  freePorts: z.number().int().min(0),
});

/** Published by each pool-manager on `berth.heartbeat.<hostId>` (HEARTBEATS). */
export const HostHeartbeatSchema = z.object({
  hostId: HostIdSchema,
  state: HostReportedStateSchema,
  /** Sender's clock, ISO; the gateway times heartbeats by its own clock, this is for people. */
  at: z.iso.datetime(),
  /** Changes when the pool-manager restarts: a host that comes back under a new boot reconciled. */
  boot: z.string().min(1).max(64),
  capacity: HostUseSchema,
  pools: z.array(HostPoolSchema).max(100),
  /** Repos this host holds the mirror of (a setup ran here, or a repo pool): placement prefers it for them. */
  repos: z.array(RepoNameSchema).max(200).optional(),
});
export type HostHeartbeat = z.infer<typeof HostHeartbeatSchema>;

export const HostDrainRequestSchema = z.object({ draining: z.boolean() });

/** GET /api/hosts. */
export const HostViewSchema = z
  .object({
    id: HostIdSchema,
    state: HostStateSchema,
    /** When the gateway last heard from it, ISO. */
    lastSeenAt: z.iso.datetime(),
    capacity: HostUseSchema,
    pools: z.array(HostPoolSchema),
  })
  .meta({ id: 'Host' });
export type HostView = z.infer<typeof HostViewSchema>;

export const HostListSchema = z
  .object({ hosts: z.array(HostViewSchema), count: z.number().int(), nextCursor: NextCursorSchema.optional() })
  .meta({ id: 'HostList' });
export type HostList = z.infer<typeof HostListSchema>;

export const HostIdParamsSchema = z.strictObject({ id: HostIdSchema });

/** The gateway's placement policy (HOST_PLACEMENT): `spread` evens load out, `pack` fills one host first. */
export const PlacementPolicySchema = z.enum(['spread', 'pack']);
export type PlacementPolicy = z.infer<typeof PlacementPolicySchema>;
