import type { SetupBody } from '@berth/contracts';
import type { Logger, NatsConnection } from '@berth/service-kit';
import type { PoolManagerConfig } from '../config.js';
import type { WorkloadDriver } from '../driver/workload-driver.js';
import type { PoolRegistry } from '../pools.js';
import type { Activity } from '../idle/activity.js';
import type { WorkspaceAccess } from '../workspaces/access.js';
import type { Lifecycle } from '../workspaces/lifecycle.js';
import type { Processes } from '../workspaces/processes.js';
import type { SetupOutput } from './setup-output.js';

/** What the phases use. */
import type { RepoLocality } from '../host/repo-locality.js';

export interface SetupDeps {
  nc: NatsConnection;
  driver: WorkloadDriver;
  access: WorkspaceAccess;
  lifecycle: Lifecycle;
  processes: Processes;
  pools: PoolRegistry;
  config: PoolManagerConfig;
  logger: Logger;
  /** A setup in progress keeps its workspace from being reaped as idle (its install may outlast a short timeout). */
  activity?: Activity;
  /** Told of each repo whose mirror this host now holds (placement prefers such hosts). */
  repos?: Pick<RepoLocality, 'note'>;
}

/** One setup run: the request (with its secrets, in memory only) and the workspace it works on. */
export interface SetupRun {
  id: string;
  owner: string;
  body: SetupBody;
  /** The workspace's /workspace volume. */
  volume: string;
  /** The pool's first container port: the dev server listens on it (PORT). */
  port: number;
  /** The workspace was filled from this repo's main image by its repo pool: the setup only switches branch. */
  repoPool?: boolean;
  /**
   * The owner's node_modules cache (volumeName) is mounted at the checkout's node_modules: the
   * checkout keeps that directory (the mount point) and no seed is used or saved.
   */
  nodeModulesCache?: boolean;
  /** Every value that must never appear in output we keep: token, callback secret, env values. */
  secrets: string[];
  /** The container's `setup` log stream (scrubbed, bounded). */
  output?: SetupOutput;
}

export function secretsOf(body: SetupBody): string[] {
  return [body.githubToken, body.callbackSecret, ...Object.values(body.envVars ?? {})].filter((s): s is string => !!s);
}
