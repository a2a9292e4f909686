import { describe, expect, it } from 'vitest';
import { COPY_SCRIPT, copyContainerOptions } from '../src/copy-spec.js';

describe('copyContainerOptions', () => {
  const opts = copyContainerOptions({ buildId: 'b1', hostId: 'h1', baseImage: 'berth/workspace:latest', volume: 'berth-ws_1', memoryMb: 256 });

  it('mounts only the workspace volume, read-only at /src, and nothing at /workspace', () => {
    expect(opts.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'berth-ws_1', Target: '/src', ReadOnly: true }]);
    expect(opts.HostConfig?.Binds).toBeUndefined();
    expect(opts.Volumes).toBeUndefined();
  });

  it('is hardened like a workspace: user 1000, no capabilities, no network, limits', () => {
    expect(opts.User).toBe('1000:1000');
    expect(opts.HostConfig).toMatchObject({
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      NetworkMode: 'none',
      PidsLimit: 64,
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
    });
    expect(opts.HostConfig?.CapAdd).toBeUndefined();
  });

  it('runs a fixed script and is named and labelled after its build', () => {
    expect(opts.Cmd).toEqual([COPY_SCRIPT]);
    expect(COPY_SCRIPT).toContain('cp -a /src/. /workspace/');
    expect(opts.name).toBe('berth-build-b1');
    expect(opts.Labels).toEqual({ 'berth.build': 'b1', 'berth.builder': 'h1' });
  });
});
