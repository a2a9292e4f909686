import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** scripts/workspace-net: the workspaces' network and its firewall, as scripts/up and scripts/stack make them. */
const SCRIPT = fileURLToPath(new URL('../../scripts/workspace-net', import.meta.url));
const run = (...args: string[]) => execFileSync(SCRIPT, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Creates (or checks) the network with berth's options; returns its gateway address. */
export const ensureWorkspaceNetwork = (network: string): string => run('network', network);
/** Workspaces on `network` reach `ip:port` (or the gateway's `port` without `ip`) and nothing else. */
export const installWorkspaceFirewall = (network: string, port: number, ip?: string): void => {
  run('install', network, String(port), ...(ip ? [ip] : []));
};
export const removeWorkspaceFirewall = (network: string, port: number): void => {
  run('remove', network, String(port));
};
