import { BerthError, type ErrorCode } from '@berth/contracts';

/** What the workspace's kernel said (errno names, as the agent reports them) → our codes. */
const BY_ERRNO: Record<string, ErrorCode> = {
  ENOENT: 'FILE_NOT_FOUND',
  ENOTDIR: 'NOT_A_DIRECTORY',
  EISDIR: 'IS_A_DIRECTORY',
  EEXIST: 'FILE_EXISTS',
  ENOTEMPTY: 'DIRECTORY_NOT_EMPTY',
  EACCES: 'FILE_PERMISSION_DENIED',
  EPERM: 'FILE_PERMISSION_DENIED',
  EROFS: 'FILE_PERMISSION_DENIED',
  EBUSY: 'FILE_PERMISSION_DENIED',
  EFBIG: 'FILE_TOO_LARGE',
  ENOSPC: 'NO_SPACE',
  EDQUOT: 'NO_SPACE',
  ENAMETOOLONG: 'INVALID_PATH',
  ELOOP: 'INVALID_PATH',
  EINVAL: 'INVALID_PATH',
  ERANGE: 'RANGE_NOT_SATISFIABLE',
  // The agent's own codes of a watch (docker/agent/watch.mjs).
  EOUTSIDE: 'PATH_OUTSIDE_WORKSPACE',
  EWATCHLIMIT: 'WATCH_LIMIT_REACHED',
  EWATCHSIZE: 'WATCH_TOO_LARGE',
};

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  FILE_NOT_FOUND: 'no such file or directory',
  NOT_A_DIRECTORY: 'not a directory',
  IS_A_DIRECTORY: 'is a directory',
  FILE_EXISTS: 'already exists',
  DIRECTORY_NOT_EMPTY: 'directory not empty (remove it with recursive=true)',
  FILE_PERMISSION_DENIED: 'permission denied for the workspace user',
  NO_SPACE: 'no space left in the workspace',
  INVALID_PATH: 'the workspace refuses this path',
  RANGE_NOT_SATISFIABLE: 'the range is outside the file',
  PATH_OUTSIDE_WORKSPACE: 'only directories of /workspace can be watched (a symlink out is refused)',
  WATCH_LIMIT_REACHED: 'the workspace has as many watches as it may (FILES_WATCH_MAX_PER_WORKSPACE): close one',
  WATCH_TOO_LARGE: 'more entries to watch than FILES_WATCH_MAX_ENTRIES: watch a smaller directory, or not recursively',
};

/**
 * The agent's error as one of our codes. Its text is the workspace's (hostile, and maybe
 * misleading): the message is ours, naming the path the caller gave; only tar's complaint (which
 * is about the caller's own archive) is passed on, cut short.
 */
export function fileError(code: unknown, message: unknown, path: string, limit?: number): BerthError {
  const errno = typeof code === 'string' ? code : '';
  const mapped = BY_ERRNO[errno];
  if (mapped === 'FILE_TOO_LARGE') return tooLarge(limit);
  if (mapped) return new BerthError(mapped, `${JSON.stringify(path)}: ${MESSAGES[mapped]}`);
  const detail = errno === 'ETAR' && typeof message === 'string' ? `: ${message.slice(0, 300)}` : '';
  return new BerthError('FILE_OPERATION_FAILED', `${JSON.stringify(path)}: the operation failed in the workspace${detail}`);
}

export function tooLarge(limit: number | undefined): BerthError {
  return new BerthError(
    'FILE_TOO_LARGE',
    `the upload is larger than the limit${limit === undefined ? '' : ` of ${limit} bytes`} (FILES_MAX_UPLOAD_BYTES); nothing was written`,
  );
}
