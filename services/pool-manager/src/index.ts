export { startPoolManager, type PoolManager } from './service.js';
export { loadPoolManagerConfig, type PoolManagerConfig } from './config.js';
export { DockerDriver } from './driver/docker-driver.js';
export * from './driver/workload-driver.js';
export * from './driver/workload-error.js';
