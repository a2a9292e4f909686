import { describe, expect, it } from 'vitest';
import { engineCall, workloadErrorOf } from '../src/driver/docker-errors.js';
import { isWorkloadError, WorkloadError } from '../src/driver/workload-error.js';

const dockerode = (statusCode: number | undefined, message: string) => Object.assign(new Error(message), statusCode === undefined ? {} : { statusCode });

describe('Docker errors as workload errors', () => {
  it.each([
    [404, 'No such container: abc', 'not_found'],
    [409, 'Container abc is not running', 'exited'],
    [409, 'Container abc is paused, unpause the container before exec', 'exited'],
    [409, 'removal of container abc is already in progress', 'conflict'],
    [409, 'Conflict. The container name "/x" is already in use', 'conflict'],
    [400, 'failed to create shim task: OCI runtime create failed: exec: "nope": executable file not found in $PATH', 'cannot_start'],
    [500, 'OCI runtime create failed: runc create failed: exec format error', 'cannot_start'],
    [400, 'invalid mount config for type "bind"', 'invalid_spec'],
    [500, 'devmapper: thin pool has no free space', 'engine_unavailable'],
    [undefined, 'connect ECONNREFUSED /var/run/docker.sock', 'engine_unavailable'],
  ] as const)('%s %s → %s', (status, message, kind) => {
    const err = workloadErrorOf(dockerode(status, message));
    expect(err).toBeInstanceOf(WorkloadError);
    expect(err.kind).toBe(kind);
    expect(err.message).toBe(message);
  });

  it('engineCall passes results through and lets only WorkloadErrors out', async () => {
    expect(await engineCall(() => Promise.resolve(7))).toBe(7);
    const thrown = await engineCall(() => Promise.reject(dockerode(404, 'No such volume'))).catch((e: unknown) => e);
    expect(isWorkloadError(thrown, 'not_found')).toBe(true);
    const same = new WorkloadError('conflict', 'already');
    expect(await engineCall(() => Promise.reject(same)).catch((e: unknown) => e)).toBe(same);
  });
});
