export { startRepoCache } from './service.js';
export { repoCacheConfigSchema, loadRepoCacheConfig, type RepoCacheConfig } from './config.js';
export { RepoLocks } from './repo-lock.js';
export { cloneBare } from './upstream.js';
