/**
 * The workspaces' bridge (DESIGN.md, Networks), which template builds' RUN steps also use. Not
 * `internal`: Docker publishes no ports on internal networks. Without masquerade it has no NAT route out; without inter-container communication one
 * workspace cannot reach another. scripts/workspace-net creates the same and installs the host
 * firewall that leaves a workspace nothing but egress's proxy port.
 */
export const WORKSPACE_NETWORK_OPTIONS = {
  'com.docker.network.bridge.enable_ip_masquerade': 'false',
  'com.docker.network.bridge.enable_icc': 'false',
} as const;

/** What an existing network has that a workspaces' network must not, as readable phrases. */
export function wrongNetworkOptions(driver: string, options: Record<string, string>): string[] {
  const wrong = driver === 'bridge' ? [] : [`driver ${driver} (not bridge)`];
  for (const [key, want] of Object.entries(WORKSPACE_NETWORK_OPTIONS)) {
    if (options[key] !== want) wrong.push(`${key}=${options[key] ?? 'true (default)'}`);
  }
  return wrong;
}
