import { z } from 'zod';

/** Every error berth returns, with its HTTP status and whether a retry can succeed. */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, retryable: false },
  UNKNOWN_FIELD: { status: 400, retryable: false },
  /** An idle timeout above the operator's maximum (IDLE_TTL_MAX_MS). */
  IDLE_TIMEOUT_TOO_LONG: { status: 400, retryable: false },
  FORBIDDEN_OPTION: { status: 400, retryable: false },
  INVALID_NAME: { status: 400, retryable: false },
  INVALID_JSON: { status: 400, retryable: false },
  IMAGE_NOT_ALLOWED: { status: 400, retryable: false },
  IMAGE_NOT_FOUND: { status: 400, retryable: false },
  /** volumeName is one berth keeps for itself, or its volume on the engine is not this owner's. */
  VOLUME_NOT_ALLOWED: { status: 403, retryable: false },
  CALLBACK_URL_REFUSED: { status: 400, retryable: false },
  UNAUTHORIZED: { status: 401, retryable: false },
  /** Authenticated, but the API key lacks the route's scope. */
  FORBIDDEN: { status: 403, retryable: false },
  /** A browser request (CORS preflight, WebSocket) from an origin not in the gateway's CORS_ORIGINS. */
  ORIGIN_NOT_ALLOWED: { status: 403, retryable: false },
  CONTAINER_NOT_FOUND: { status: 404, retryable: false },
  POOL_NOT_FOUND: { status: 404, retryable: false },
  SETUP_NOT_FOUND: { status: 404, retryable: false },
  VOLUME_NOT_FOUND: { status: 404, retryable: false },
  REPO_NOT_FOUND: { status: 404, retryable: false },
  /** Upstream refused the repository's credential, or wants one and none was given. */
  REPO_AUTH_FAILED: { status: 422, retryable: false },
  /** Egress's allow-list does not include the repository's host. */
  REPO_HOST_NOT_ALLOWED: { status: 422, retryable: false },
  BRANCH_NOT_FOUND: { status: 404, retryable: false },
  ROUTE_NOT_FOUND: { status: 404, retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false },
  NAME_CONFLICT: { status: 409, retryable: false },
  CONTAINER_NOT_RUNNING: { status: 409, retryable: false },
  /** The workspace was deleted (or reaped) while the command ran: it was cut short, there is no exit code. */
  CONTAINER_DELETED: { status: 409, retryable: false },
  /** POST .../llm-key on a host whose pool-manager runs without LLM keys (no LLM_EGRESS_URL, or LLM_KEYS_ENABLED=false). */
  LLM_KEYS_DISABLED: { status: 409, retryable: false },
  SETUP_IN_PROGRESS: { status: 409, retryable: false },
  MAIN_IMAGE_NOT_FOUND: { status: 409, retryable: false },
  /** DELETE /api/volumes/:name while a container mounts the volume. */
  VOLUME_IN_USE: { status: 409, retryable: false },
  /** A new named volume beyond the owner's MAX_VOLUMES_PER_OWNER: delete one first. */
  VOLUME_LIMIT_REACHED: { status: 409, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  /** An Idempotency-Key (requestId) already used with a different body: it names another request. */
  IDEMPOTENCY_KEY_REUSED: { status: 422, retryable: false },
  /** A setup's failure (SetupStatus.error.code), never an HTTP answer; the SDK throws them typed. */
  CLONE_FAILED: { status: 422, retryable: false },
  INSTALL_FAILED: { status: 422, retryable: false },
  START_FAILED: { status: 422, retryable: false },
  /** The image's container exited while starting: it cannot serve as a workspace (nothing is kept). */
  CONTAINER_EXITED: { status: 422, retryable: false },
  PHASE_TIMEOUT: { status: 422, retryable: false },
  SETUP_INTERRUPTED: { status: 503, retryable: true },
  RATE_LIMITED: { status: 429, retryable: true },
  INTERNAL: { status: 500, retryable: true },
  UPSTREAM_UNAVAILABLE: { status: 502, retryable: true },
  CAPACITY_EXHAUSTED: { status: 503, retryable: true },
  PORTS_EXHAUSTED: { status: 503, retryable: true },
  SERVICE_UNAVAILABLE: { status: 503, retryable: true },
  TIMEOUT: { status: 504, retryable: true },
  // w3-files: files in a workspace (docs/files.md).
  FILE_NOT_FOUND: { status: 404, retryable: false },
  NOT_A_DIRECTORY: { status: 409, retryable: false },
  IS_A_DIRECTORY: { status: 409, retryable: false },
  FILE_EXISTS: { status: 409, retryable: false },
  DIRECTORY_NOT_EMPTY: { status: 409, retryable: false },
  /** The workspace user may not do that (the agent acts as the user: the kernel said EACCES/EPERM/EROFS). */
  FILE_PERMISSION_DENIED: { status: 403, retryable: false },
  /** An upload past FILES_MAX_UPLOAD_BYTES: nothing was written. */
  FILE_TOO_LARGE: { status: 413, retryable: false },
  /** A path the workspace's filesystem refuses (too long, a loop of links, not a name). */
  INVALID_PATH: { status: 400, retryable: false },
  RANGE_NOT_SATISFIABLE: { status: 416, retryable: false },
  /** The workspace's filesystem is full (ENOSPC, EDQUOT). */
  NO_SPACE: { status: 409, retryable: false },
  /** Any other failure of a file operation in the workspace. */
  FILE_OPERATION_FAILED: { status: 422, retryable: false },
  /** The workspace's agent predates file support (an image built before it): rebuild or recreate it. */
  AGENT_UPGRADE_REQUIRED: { status: 409, retryable: false },
  /** The workspace has no agent connected (a custom image without it, or it is restarting). */
  AGENT_UNAVAILABLE: { status: 503, retryable: true },
  // w3-preview: preview URLs
  /** The container does not publish the requested container port (or it is no port at all). */
  PREVIEW_PORT_NOT_PUBLISHED: { status: 404, retryable: false },
  /** No share link with this id for this container and owner (never made, revoked or expired). */
  PREVIEW_NOT_FOUND: { status: 404, retryable: false },
  /** Nothing answers on the published port yet (the dev server is not listening): try again later. */
  PREVIEW_UPSTREAM_UNREACHABLE: { status: 502, retryable: true },
  // w3-pause
  /** A command or stream for a paused workspace whose caller turned autoResume off: POST .../resume first. */
  CONTAINER_PAUSED: { status: 409, retryable: false },
  // w3-hosts
  /** The workspace's Docker host stopped sending heartbeats (lost): retry once it is back. */
  HOST_UNAVAILABLE: { status: 503, retryable: true },
  /** GET/POST /api/hosts/:id of a host no gateway has heard from. */
  HOST_NOT_FOUND: { status: 404, retryable: false },
  // w4-limits
  /** A create asked for more cpus, memoryMb or diskMb than its API key's owner may (docs/limits.md). */
  LIMIT_EXCEEDED: { status: 400, retryable: false },
  /** A create asked for diskMb from a host without disk limits (WORKSPACE_DISK_DIR unset). */
  LIMIT_UNSUPPORTED: { status: 400, retryable: false },
  // w4-templates
  /** A template's Dockerfile starts FROM (or copies from) an image that is not a berth workspace image or one of the owner's templates. */
  TEMPLATE_BASE_NOT_ALLOWED: { status: 400, retryable: false },
  /** A template's Dockerfile uses what a template build cannot allow (ADD from a URL, build flags, variables in FROM). */
  TEMPLATE_INSTRUCTION_NOT_ALLOWED: { status: 400, retryable: false },
  /** The template's build failed (a RUN step exited non-zero, a syntax error): its output says why. */
  TEMPLATE_BUILD_FAILED: { status: 422, retryable: false },
  /** No template of this name for this owner on this host. */
  TEMPLATE_NOT_FOUND: { status: 404, retryable: false },
  // w5-files-watch
  /** A files watch of a path outside /workspace (also through a symlink). */
  PATH_OUTSIDE_WORKSPACE: { status: 400, retryable: false },
  /** The workspace has FILES_WATCH_MAX_PER_WORKSPACE watches already (a closed one counts for FILES_WATCH_RESUME_MS): close one. */
  WATCH_LIMIT_REACHED: { status: 409, retryable: false },
  /** The watched tree has more entries than FILES_WATCH_MAX_ENTRIES: watch a smaller directory, or not recursively. */
  WATCH_TOO_LARGE: { status: 422, retryable: false },
  // w5-templates-api
  /** The owner already has MAX_TEMPLATES_PER_OWNER templates on a host; a new name is refused there (names it has can be rebuilt). */
  TEMPLATE_LIMIT_REACHED: { status: 409, retryable: false },
  /** Another build of the owner's templates runs on that host: one at a time per owner and host. */
  TEMPLATE_BUILD_IN_PROGRESS: { status: 409, retryable: false },
  /** The template's build ran longer than TEMPLATE_BUILD_TIMEOUT_MS and was stopped; nothing was tagged. */
  TEMPLATE_BUILD_TIMEOUT: { status: 422, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      retryable: z.boolean(),
      /** Present on retryable capacity errors; the gateway turns it into `Retry-After`. */
      retryAfterSeconds: z.number().int().positive().optional(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      /** The request's id (its `X-Request-Id` answer header); on answers of the HTTP API only. */
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
export type ErrorDetail = NonNullable<ErrorBody['error']['details']>[number];

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** A berth error with a stable code. Thrown by services, carried over NATS, mapped to HTTP. */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryAfterSeconds?: number; details?: ErrorDetail[]; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'BerthError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.details = opts.details;
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterSeconds !== undefined) error.retryAfterSeconds = this.retryAfterSeconds;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }

  static fromBody(body: ErrorBody): BerthError {
    const { code, message, retryAfterSeconds, details } = body.error;
    return new BerthError(code, message, {
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
      ...(details !== undefined && { details }),
    });
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return ErrorBodySchema.safeParse(value).success;
}
