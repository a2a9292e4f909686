import { describe, expect, it } from 'vitest';
import { WorkspaceIdSchema, hostOfWorkspace, hostSubject, natsPermissions, permissionSubject } from '../src/index.js';

describe('host addressing', () => {
  it('workspace ids name their host; old ids belong to the default host', () => {
    expect(WorkspaceIdSchema.safeParse('ws_0123456789abcdef').success).toBe(true);
    expect(WorkspaceIdSchema.safeParse('ws_host-2_0123456789abcdef').success).toBe(true);
    for (const bad of [
      'ws_Host_0123456789abcdef',
      'ws_h.1_0123456789abcdef',
      'ws_h*_0123456789abcdef',
      'ws__0123456789abcdef',
      'ws_a_b_0123456789abcdef',
      'ws_-a_0123456789abcdef',
    ]) {
      expect(WorkspaceIdSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(hostOfWorkspace('ws_0123456789abcdef')).toBe('local');
    // An id naming no host is the asker's own host's (a single-host install with its own BERTH_HOST_ID).
    expect(hostOfWorkspace('ws_0123456789abcdef', 'edge-1')).toBe('edge-1');
    expect(hostOfWorkspace('ws_host-2_0123456789abcdef', 'edge-1')).toBe('host-2');
    expect(hostOfWorkspace('ws_host-2_0123456789abcdef')).toBe('host-2');
  });

  it('host-addressed subjects carry the host; permissions allow any host, nothing wider', () => {
    expect(hostSubject('berth.container.get', 'h2')).toBe('berth.host.h2.container.get');
    expect(permissionSubject('containerGet')).toBe('berth.host.*.container.get');
    expect(permissionSubject('llmUsage')).toBe('berth.llm.usage');
    const pm = natsPermissions('pool-manager');
    expect(pm.subscribe).toContain('berth.host.*.container.create');
    expect(pm.subscribe).not.toContain('berth.container.create');
    expect(pm.publish).toContain('berth.heartbeat.*');
    expect(pm.publish).toContain('berth.host.*.repo.sync');
    const gw = natsPermissions('gateway');
    expect(gw.subscribe).toContain('berth.heartbeat.*');
    expect(gw.publish).toContain('berth.host.*.hostctl.drain');
    expect(gw.publish).not.toContain('berth.heartbeat.*');
    expect(natsPermissions('repo-cache').subscribe).toContain('berth.host.*.repo.sync');
  });
});
