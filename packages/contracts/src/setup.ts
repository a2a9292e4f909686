import { z } from 'zod';
import { WorkspaceIdSchema } from './names.js';
import { BranchNameSchema, CommitShaSchema, RepoNameSchema } from './repo.js';

export const SETUP_PHASES = ['queued', 'cloning', 'installing', 'starting', 'ready', 'failed'] as const;
export const SetupPhaseSchema = z.enum(SETUP_PHASES).meta({ id: 'SetupPhase' });
export type SetupPhase = z.infer<typeof SetupPhaseSchema>;
export const TERMINAL_SETUP_PHASES: readonly SetupPhase[] = ['ready', 'failed'];

const EnvVarsSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .max(128),
    z.string().max(32_768),
  )
  .refine((env) => Object.keys(env).length <= 100, 'at most 100 variables');
const ShellCommandSchema = z.string().min(1).max(4096);

/** Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes (the spec's range). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
const WHSEC_KEY_BYTES = { min: 24, max: 64 } as const;
/**
 * The shortest plain-string secret. A length cannot measure entropy, so this only stops accidents
 * (empty, `x`, `test`); 8 admits Artie's documented `secret123`. docs/callbacks.md recommends a
 * `whsec_` secret of 32 random bytes, because a guessable secret can be found offline from one
 * signed delivery.
 */
export const CALLBACK_SECRET_MIN_LENGTH = 8;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of a `whsec_` secret's key, or undefined when it is not valid base64 of an allowed length. */
export function whsecKeyBytes(secret: string): Uint8Array | undefined {
  const b64 = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!BASE64.test(b64)) return undefined;
  const key = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return key.length >= WHSEC_KEY_BYTES.min && key.length <= WHSEC_KEY_BYTES.max ? key : undefined;
}

/**
 * `callbackSecret`: a Standard Webhooks `whsec_<base64>` secret (its decoded bytes are the HMAC
 * key), or any other string of 8 to 256 characters (its UTF-8 bytes are the key).
 */
export const CallbackSecretSchema = z
  .string()
  .min(CALLBACK_SECRET_MIN_LENGTH)
  .max(256)
  .refine((s) => !s.startsWith(WEBHOOK_SECRET_PREFIX) || whsecKeyBytes(s) !== undefined, {
    message: `a ${WEBHOOK_SECRET_PREFIX} secret must be base64 of ${WHSEC_KEY_BYTES.min} to ${WHSEC_KEY_BYTES.max} bytes`,
  })
  .meta({
    description:
      'Signs the callbacks (Standard Webhooks): whsec_ + base64 of 24-64 random bytes (recommended), or any other string of 8-256 characters, used as its UTF-8 bytes.',
  });

/** Body of `POST /api/containers/:id/setup` (the Artie-compatible fields first). */
export const SetupBodySchema = z
  .strictObject({
    repo: RepoNameSchema,
    branch: BranchNameSchema,
    githubToken: z.string().min(1).max(500).optional(),
    callbackUrl: z.string().max(2048).optional(),
    callbackSecret: CallbackSecretSchema.optional(),
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

/**
 * Why a clone failed (SetupError.reason with CLONE_FAILED): the repository or branch is missing, the
 * token was refused or is needed, egress does not allow the host, or upstream is unreachable.
 */
export const CloneFailureReasonSchema = z.enum(['REPO_NOT_FOUND', 'BRANCH_NOT_FOUND', 'REPO_AUTH_FAILED', 'REPO_HOST_NOT_ALLOWED', 'UPSTREAM_UNAVAILABLE']);
export type CloneFailureReason = z.infer<typeof CloneFailureReasonSchema>;

export const SetupErrorSchema = z.object({ code: z.string(), message: z.string(), reason: CloneFailureReasonSchema.optional() });

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

/** A setup status as published into EVENTS: with its workspace's owner (absent only in statuses stored by an older berth). */
export const SetupEventSchema = SetupStatusSchema.extend({ owner: z.string().min(1).max(100).optional() }).meta({ id: 'SetupEvent' });
export type SetupEvent = z.infer<typeof SetupEventSchema>;

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
  secret: CallbackSecretSchema,
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

/**
 * Callback HTTP headers egress sends with every delivery: the Standard Webhooks headers
 * (standardwebhooks.com), verifiable with the `standardwebhooks` package in any language.
 */
export const CALLBACK_HEADERS = {
  /** `<workspace id>:<seq>`: the same for every retry and resend of one status, unique per status. */
  id: 'webhook-id',
  /** Unix seconds when the attempt was signed. */
  timestamp: 'webhook-timestamp',
  /** `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}` under the secret's key bytes. */
  signature: 'webhook-signature',
} as const;

/**
 * @deprecated berth's own callback headers, still sent beside CALLBACK_HEADERS for one release
 * (docs/callbacks.md). The signature covers neither the event id nor the attempt.
 */
export const LEGACY_CALLBACK_HEADERS = {
  /** Unix seconds when the delivery was signed (equal to webhook-timestamp). */
  timestamp: 'x-berth-timestamp',
  /** `sha256=` + hex HMAC-SHA256 of `${timestamp}.${body}` under callbackSecret as a UTF-8 string. */
  signature: 'x-berth-signature',
  /** Equal to webhook-id. */
  eventId: 'x-berth-event-id',
  attempt: 'x-berth-delivery-attempt',
} as const;

/** The webhook-id of a status: stable across retries (receivers dedupe on it); seq continues across re-setups. */
export const callbackEventId = (status: Pick<SetupStatus, 'id' | 'seq'>): string => `${status.id}:${status.seq}`;
