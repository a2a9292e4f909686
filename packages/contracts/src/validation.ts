import type { z } from 'zod';
import { BerthError, type ErrorCode, type ErrorDetail } from './errors.js';

/** Fields that would weaken a workspace's isolation. Asking for them is refused with FORBIDDEN_OPTION. */
export const FORBIDDEN_FIELDS = new Set([
  'privileged',
  'capAdd',
  'cap_add',
  'capabilities',
  'binds',
  'mounts',
  'volumes',
  'hostConfig',
  'HostConfig',
  'devices',
  'network',
  'networkMode',
  'pidMode',
  'ipcMode',
  'userns',
  'usernsMode',
  'user',
  'securityOpt',
  'readonlyRootfs',
  'sysctls',
  'runtime',
  'cgroupParent',
  'dockerSocket',
]);

const NAME_FIELDS = new Set(['name', 'pool', 'volumeName', 'image', 'id']);

function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.');
}

/** Turns zod issues into one BerthError whose code says what kind of mistake it was. */
export function validationError(error: z.ZodError, what = 'request'): BerthError {
  const details: ErrorDetail[] = [];
  let code: ErrorCode = 'VALIDATION_FAILED';
  const rank: Record<string, number> = { VALIDATION_FAILED: 0, INVALID_NAME: 1, UNKNOWN_FIELD: 2, FORBIDDEN_OPTION: 3 };
  const raise = (c: ErrorCode) => {
    if ((rank[c] ?? 0) > (rank[code] ?? 0)) code = c;
  };

  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const forbidden = FORBIDDEN_FIELDS.has(key);
        raise(forbidden ? 'FORBIDDEN_OPTION' : 'UNKNOWN_FIELD');
        details.push({ path: [...issue.path.map(String), key].join('.'), message: forbidden ? 'option not allowed' : 'unknown field' });
      }
      continue;
    }
    const field = String(issue.path[issue.path.length - 1] ?? '');
    if (NAME_FIELDS.has(field) && issue.code !== 'invalid_type') raise('INVALID_NAME');
    details.push({ path: pathOf(issue), message: issue.message });
  }
  const summary = details
    .slice(0, 3)
    .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
    .join('; ');
  return new BerthError(code, `invalid ${what}: ${summary}`, { details: details.slice(0, 20) });
}

/** Parses or throws a BerthError with a stable code; never returns a half-valid value. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}
