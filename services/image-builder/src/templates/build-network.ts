import { isDockerStatus, wrongNetworkOptions } from '@berth/service-kit';
import type Docker from 'dockerode';

/** The proxy variables a build's RUN steps get (Docker's predefined build args: kept out of the image's history). */
export function proxyBuildArgs(proxyUrl: string): Record<string, string> {
  if (!proxyUrl) return {};
  return {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
  };
}

/**
 * Refuses to start on a build network that is not a workspaces' network: RUN steps on the default
 * bridge (or any network with NAT or inter-container traffic) would reach the outside or other
 * containers directly, around egress's allow-list. `none` needs no check.
 */
export async function checkBuildNetwork(docker: Docker, name: string): Promise<void> {
  if (name === 'none') return;
  let net: { Driver?: string; Options?: Record<string, string> | null };
  try {
    net = (await docker.getNetwork(name).inspect()) as typeof net;
  } catch (err) {
    if (isDockerStatus(err, 404))
      throw new Error(`TEMPLATE_BUILD_NETWORK ${name} does not exist: name the workspaces' network (scripts/up and compose make it)`);
    throw err;
  }
  const wrong = wrongNetworkOptions(net.Driver ?? '', net.Options ?? {});
  if (wrong.length > 0) {
    throw new Error(`TEMPLATE_BUILD_NETWORK ${name} has ${wrong.join(', ')}: template builds there would get around egress's allow-list`);
  }
}
