import { z } from 'zod';
import { WorkspaceIdSchema } from './names.js';
import { BranchNameSchema, CommitShaSchema, RepoNameSchema } from './repo.js';

export const SETUP_PHASES = ['queued', 'cloning', 'installing', 'building', 'starting', 'ready', 'failed'] as const;
export const SetupPhaseSchema = z.enum(SETUP_PHASES).meta({ id: 'SetupPhase' });
export type SetupPhase = z.infer<typeof SetupPhaseSchema>;
export const TERMINAL_SETUP_PHASES: readonly SetupPhase[] = ['ready', 'failed'];

const EnvVarsSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128), z.string().max(32_768))
  .refine((env) => Object.keys(env).length <= 100, 'at most 100 variables');
const ShellCommandSchema = z.string().min(1).max(4096);

/** Body of `POST /api/containers/:id/setup` (the Artie-compatible fields first). */
export const SetupBodySchema = z
  .strictObject({
    repo: RepoNameSchema,
    branch: BranchNameSchema,
    githubToken: z.string().min(1).max(500).optional(),
    callbackUrl: z.string().max(2048).optional(),
    callbackSecret: z.string().min(16).max(256).optional(),
    hasMainImage: z.boolean().optional(),
    buildMainImage: z.boolean().optional(),
    envVars: EnvVarsSchema.optional(),
    /** Defaults to the lockfile's package manager (`npm ci`, `pnpm install --frozen-lockfile`, ...). */
    installCommand: ShellCommandSchema.optional(),
    /** Defaults to `npm run dev` when package.json has a dev script. */
    startCommand: ShellCommandSchema.optional(),
  })
  .refine((b) => (b.callbackUrl === undefined) === (b.callbackSecret === undefined), {
    message: 'callbackUrl and callbackSecret go together',
    path: ['callbackSecret'],
  })
  .meta({ id: 'SetupBody' });
export type SetupBody = z.infer<typeof SetupBodySchema>;

export const SetupErrorSchema = z.object({ code: z.string(), message: z.string() });

/** The setup state of one workspace: `GET /api/containers/:id/setup` and every status event. */
export const SetupStatusSchema = z
  .object({
    id: WorkspaceIdSchema,
    /** 1, 2, 3... per workspace; an event with a seq already seen is a duplicate. */
    seq: z.number().int().min(1),
    phase: SetupPhaseSchema,
    repo: RepoNameSchema,
    branch: BranchNameSchema,
    sha: CommitShaSchema.optional(),
    /** How the checkout was made: from the repo's main image, a repo warm pool, or a plain clone. */
    source: z.enum(['clone', 'main-image', 'repo-pool']).optional(),
    at: z.iso.datetime(),
    startedAt: z.iso.datetime(),
    /** Milliseconds spent in each finished phase. */
    durations: z.record(z.string(), z.number().int().min(0)).default({}),
    error: SetupErrorSchema.optional(),
    /** The last lines of the failing phase's output (secrets redacted). */
    logTail: z.string().max(8192).optional(),
  })
  .meta({ id: 'SetupStatus' });
export type SetupStatus = z.infer<typeof SetupStatusSchema>;

/** `berth.setup.start`: the gateway's request; pool-manager answers once the setup is accepted. */
export const SetupStartRequestSchema = z.object({
  id: WorkspaceIdSchema,
  owner: z.string().min(1).max(100),
  body: SetupBodySchema,
});
export type SetupStartRequest = z.infer<typeof SetupStartRequestSchema>;

/**
 * `berth.callback.register`: egress checks the URL (after DNS, refusing loopback, private,
 * link-local and metadata addresses) and keeps it with the secret (encrypted) for the workspace's
 * setup events. A refused URL is the error CALLBACK_URL_REFUSED.
 */
export const CallbackRegisterRequestSchema = z.object({
  id: WorkspaceIdSchema,
  url: z.string().max(2048),
  secret: z.string().min(16).max(256),
});
export const CallbackRegisterReplySchema = z.object({ registered: z.literal(true) });

/** Work item of the JetStream work queue BUILDS (`berth.build.image.<hostId>`, see images.ts): commit a set-up workspace as the repo's main image. */
export const ImageBuildRequestSchema = z.object({
  id: WorkspaceIdSchema,
  repo: RepoNameSchema,
  sha: CommitShaSchema,
  hostId: z.string(),
});
export type ImageBuildRequest = z.infer<typeof ImageBuildRequestSchema>;

/** Callback HTTP headers egress sends with every delivery. */
export const CALLBACK_HEADERS = {
  /** Unix seconds when the delivery was signed. */
  timestamp: 'x-berth-timestamp',
  /** `sha256=` + hex HMAC-SHA256 of `${timestamp}.${body}` under callbackSecret. */
  signature: 'x-berth-signature',
  /** `<workspace id>:<seq>`: the same for every retry of one status. */
  eventId: 'x-berth-event-id',
  attempt: 'x-berth-delivery-attempt',
} as const;
