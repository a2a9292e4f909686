import type { Logger } from '@berth/service-kit';
import type { AgentRegistry } from './agent/agent-registry.js';
import type { PoolManagerConfig } from './config.js';
import type { WorkloadDriver } from './driver/workload-driver.js';
import type { WorkloadNames } from './driver/workload-names.js';
import type { EventPublisher } from './events.js';
import type { Host } from './host.js';
import { Activity } from './idle/activity.js';
import { IdleReaper } from './idle/idle-reaper.js';
import { ImagePolicy } from './image-policy.js';
import type { LlmKeys } from './llm/llm-keys.js';
import { PoolFiller } from './pool-filler.js';
import { PoolImages } from './pool-image.js';
import { PoolRegistry } from './pools.js';
import { Provisioner } from './provisioner.js';
import { Reconciler } from './reconciler.js';
import type { WorkspaceStore } from './state/workspace-store.js';
import { OwnerVolumes } from './volumes/owner-volumes.js';
import { WorkspaceAccess } from './workspaces/access.js';
import { Claims } from './workspaces/claims.js';
import { Lifecycle } from './workspaces/lifecycle.js';
import { Processes } from './workspaces/processes.js';

export interface HostWorkspaceDeps {
  config: PoolManagerConfig;
  host: Host;
  driver: WorkloadDriver;
  store: WorkspaceStore;
  events: EventPublisher;
  llm: LlmKeys;
  names: WorkloadNames;
  logger: Logger;
  agents?: AgentRegistry | undefined;
}

/**
 * The objects that decide about one host's workspaces (claims, lifecycle, processes, pools,
 * reconcile), wired together without any transport: the service serves them over NATS, unit
 * tests drive them over a fake driver.
 */
export function hostWorkspaces(d: HostWorkspaceDeps) {
  const { config, host, driver, store, events, llm, names, logger, agents } = d;
  const pools = new PoolRegistry(config.POOLS);
  const provisioner = new Provisioner(store, driver, config, host, events, logger, llm, agents);
  const filler = new PoolFiller(store, pools, provisioner, logger, names, new PoolImages(driver, logger));
  const volumes = new OwnerVolumes(driver, config, logger);
  const admission = { images: new ImagePolicy(driver, config.ALLOWED_IMAGES), volumes };
  const access = new WorkspaceAccess(store);
  const claims = new Claims({ store, driver, pools, provisioner, filler, events, config, logger, llm, admission, names });
  const lifecycle = new Lifecycle({ store, driver, access, pools, filler, events, config, host, logger, llm, names, agents });
  const processes = new Processes({ store, driver, access, config, llm, agents });
  const activity = new Activity(store);
  const idle = new IdleReaper(store, driver, lifecycle, activity, events, config, logger);
  const reconciler = new Reconciler(store, driver, pools, lifecycle, filler, config, host, logger, llm, names, idle, agents);
  return { pools, provisioner, filler, volumes, access, claims, lifecycle, processes, activity, idle, reconciler };
}
