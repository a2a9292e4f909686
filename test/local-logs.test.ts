import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const INFRA = join(import.meta.dirname, '..', 'scripts', 'lib', 'local-infra.sh');
let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('scripts/up log files', () => {
  it('are readable by their owner only (dir 0700, files 0600), a previous world-readable log included', () => {
    root = mkdtempSync(join(tmpdir(), 'berth-logs-'));
    const logs = join(root, '.berth', 'logs');
    mkdirSync(logs, { recursive: true, mode: 0o755 });
    chmodSync(logs, 0o755);
    writeFileSync(join(logs, 'gateway.log'), 'GET /api/x?token=old\n', { mode: 0o644 });
    // umask 022 as on a default shell: the files the script makes must not inherit it.
    execFileSync('bash', ['-c', `umask 022; BERTH_ROOT="$1"; . "$2"; berth_spawn gateway true; wait`, 'test', root, INFRA]);
    expect(mode(logs)).toBe(0o700);
    expect(mode(join(logs, 'gateway.log'))).toBe(0o600);
    expect(mode(join(logs, 'gateway.log.prev'))).toBe(0o600);
  });
});
